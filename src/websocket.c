/*
 * websocket.c - RFC 6455 frames and handshake key, server side
 * (websocket.h).
 */
#include "websocket.h"

#include <string.h>

#include <openssl/sha.h>

#include "base64.h"
#include "common.h"

int ws_frame_parse(const uint8_t *buf, size_t len, uint64_t max_payload, struct ws_frame *f, const char **why)
{
	size_t pos = 2;
	uint64_t n;

	if (len < 2)
		return PH_AGAIN;
	f->fin = buf[0] & 0x80;
	f->opcode = buf[0] & 0x0f;
	if (buf[0] & 0x70) {
		*why = "a WebSocket frame with reserved bits set (no extension was agreed)";
		return PH_ERROR;
	}
	switch (f->opcode) {
	case WS_CONTINUATION:
	case WS_TEXT:
	case WS_BINARY:
		break;
	case WS_CLOSE:
	case WS_PING:
	case WS_PONG:
		if (!f->fin) {
			*why = "a fragmented WebSocket control frame";
			return PH_ERROR;
		}
		break;
	default:
		*why = "a WebSocket frame with an unknown opcode";
		return PH_ERROR;
	}
	if (!(buf[1] & 0x80)) {
		*why = "an unmasked WebSocket frame from a client (RFC 6455 5.1)";
		return PH_ERROR;
	}
	n = buf[1] & 0x7f;
	if (n == 126) {
		if (len < 4)
			return PH_AGAIN;
		n = (uint64_t)buf[2] << 8 | buf[3];
		pos = 4;
		if (n < 126) {
			*why = "a WebSocket frame length not in its shortest form";
			return PH_ERROR;
		}
	} else if (n == 127) {
		if (len < 10)
			return PH_AGAIN;
		n = 0;
		for (int i = 0; i < 8; i++)
			n = n << 8 | buf[2 + i];
		pos = 10;
		if (n < 65536 || n >> 63) {
			*why = "a WebSocket frame length not in its shortest form";
			return PH_ERROR;
		}
	}
	if (f->opcode >= WS_CLOSE && n > 125) {
		*why = "a WebSocket control frame longer than 125 bytes";
		return PH_ERROR;
	}
	if (n > max_payload) {
		*why = "a WebSocket frame larger than this echo takes";
		return PH_ERROR;
	}
	if (len < pos + 4)
		return PH_AGAIN;
	memcpy(f->mask, buf + pos, 4);
	f->header_len = pos + 4;
	f->length = n;
	return PH_OK;
}

void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset)
{
	for (size_t i = 0; i < n; i++)
		p[i] ^= mask[(offset + i) & 3];
}

size_t ws_frame_header(uint8_t *out, bool fin, uint8_t opcode, uint64_t length)
{
	out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
	if (length < 126) {
		out[1] = (uint8_t)length;
		return 2;
	}
	if (length < 65536) {
		out[1] = 126;
		out[2] = (uint8_t)(length >> 8);
		out[3] = (uint8_t)length;
		return 4;
	}
	out[1] = 127;
	for (int i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(length >> (56 - 8 * i));
	return 10;
}

int ws_accept_key(const char *key, size_t keylen, char out[29])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char raw[18], digest[SHA_DIGEST_LENGTH];
	char joined[64 + sizeof(guid)];

	if (keylen > 64 || base64_decode(key, keylen, raw, sizeof(raw)) != 16)
		return PH_ERROR;
	memcpy(joined, key, keylen);
	memcpy(joined + keylen, guid, sizeof(guid) - 1);
	SHA1((const unsigned char *)joined, keylen + sizeof(guid) - 1, digest);
	return base64_encode(digest, sizeof(digest), out, 29) == 28 ? PH_OK : PH_ERROR;
}
