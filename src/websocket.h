/*
 * websocket.h - the server side of RFC 6455, as much as the self-check
 * page's echo needs: the handshake's accept key, reading the frames a
 * browser sends (masked) and writing unmasked ones back.
 */
#ifndef PINHOLE_WEBSOCKET_H
#define PINHOLE_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ws_opcode {
	WS_CONTINUATION = 0x0,
	WS_TEXT = 0x1,
	WS_BINARY = 0x2,
	WS_CLOSE = 0x8,
	WS_PING = 0x9,
	WS_PONG = 0xa,
};

struct ws_frame {
	bool fin;
	uint8_t opcode;
	uint8_t mask[4];
	size_t header_len; /* the frame is header_len + length bytes */
	uint64_t length;
};

/* Reads a frame's header from a client: PH_OK (f filled), PH_AGAIN (more
 * bytes needed), or PH_ERROR with *why (RFC 6455 5.1-5.5: an unmasked
 * frame, reserved bits set, an unknown opcode, a control frame longer
 * than 125 bytes or fragmented, a length not in its shortest form, or a
 * payload longer than max_payload). */
int ws_frame_parse(const uint8_t *buf, size_t len, uint64_t max_payload, struct ws_frame *f, const char **why);
/* Unmasks n payload bytes in place, the first being at offset in the
 * payload. */
void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset);
/* A server frame's header (unmasked) into out (at least 10 bytes);
 * returns its length. */
size_t ws_frame_header(uint8_t *out, bool fin, uint8_t opcode, uint64_t length);
/* Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 4.2.2):
 * PH_OK with 28 characters and a NUL in out, or PH_ERROR when the key is
 * not the base64 of 16 bytes. */
int ws_accept_key(const char *key, size_t keylen, char out[29]);

#endif
