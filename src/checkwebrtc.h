/*
 * checkwebrtc.h - `pinhole check-webrtc -c FILE [VENDOR...]`: tells, offline,
 * whether a configuration meets each requirement of each WebRTC vendor
 * (vendors.h), and which line to add or change when it does not.  It reads
 * policy (config, matchers, auth settings) and never starts the engine.
 */
#ifndef PINHOLE_CHECKWEBRTC_H
#define PINHOLE_CHECKWEBRTC_H

/* argv: the arguments after "check-webrtc".  Returns the exit status: 0 when
 * nothing breaks, 1 when a requirement breaks, 2 on a usage or configuration
 * error (printed as FILE:LINE: message). */
int check_webrtc_main(int argc, char **argv);

#endif
