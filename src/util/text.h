/*
 * Small text primitives shared by the parsers and the JSON writer: hex
 * digits and UTF-8 well-formedness. Pure functions.
 */
#ifndef RESTD_TEXT_H
#define RESTD_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* The value of a hex digit, or -1. */
int text_hexval(char c);

/*
 * The well-formed UTF-8 sequence that starts at s (s[0] >= 0x80): returns
 * its length (2-4), or 0 when ill-formed, with *skip set to the length of
 * the maximal subpart that one U+FFFD replaces (at least 1). Ranges from
 * Unicode table 3-7: this rejects overlongs, surrogates and > U+10FFFF.
 */
size_t text_utf8_seq(const unsigned char *s, size_t n, size_t *skip);

/* Whether all n bytes are well-formed UTF-8. */
bool text_utf8_valid(const char *s, size_t n);

#endif
