/* text: see text.h. Written by hand: jansson validates UTF-8 but cannot
 * repair it, and the two rules here are a few lines each. */
#include "text.h"

#include <stdint.h>
#include <string.h>

/* The length of the well-formed UTF-8 sequence at s (n bytes available), or
 * 0 when s does not start one (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4
                                          : 0;
    if (!len || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && s[1] < 0xa0) return 0; /* overlong */
    if (c == 0xed && s[1] > 0x9f) return 0; /* surrogate */
    if (c == 0xf0 && s[1] < 0x90) return 0; /* overlong */
    if (c == 0xf4 && s[1] > 0x8f) return 0; /* above U+10FFFF */
    return len;
}

/* Appends piece (len bytes) when it fits with room for the ellipsis and
 * the NUL; returns 0 when it does not. */
static int put(char *dst, size_t dstlen, size_t *at, const char *piece, size_t len)
{
    if (*at + len + 4 > dstlen) return 0;
    memcpy(dst + *at, piece, len);
    *at += len;
    return 1;
}

static size_t finish(char *dst, size_t dstlen, size_t at, int cut)
{
    if (cut && at + 4 <= dstlen) {
        memcpy(dst + at, "...", 3);
        at += 3;
    }
    dst[at] = '\0';
    return at;
}

size_t stt_text_utf8(char *dst, size_t dstlen, const char *src, size_t srclen)
{
    if (!dst || !dstlen) return 0;
    size_t at = 0;
    if (dstlen < 4) {
        dst[0] = '\0';
        return 0;
    }
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    size_t n = src ? strnlen(src, srclen) : 0;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len(s + i, n - i);
        int ok = l ? put(dst, dstlen, &at, (const char *)s + i, l)
                   : put(dst, dstlen, &at, "\xef\xbf\xbd", 3);
        if (!ok) return finish(dst, dstlen, at, 1);
        i += l ? l : 1;
    }
    return finish(dst, dstlen, at, 0);
}

size_t stt_text_log(char *dst, size_t dstlen, const char *src)
{
    if (!dst || !dstlen) return 0;
    size_t at = 0;
    if (dstlen < 4) {
        dst[0] = '\0';
        return 0;
    }
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *s = (const unsigned char *)(src ? src : ""); *s; s++) {
        char esc[4] = {'\\', 'x', hex[*s >> 4], hex[*s & 15]};
        int plain = *s > 0x20 && *s < 0x7f && *s != '"' && *s != '\\';
        if (!(plain ? put(dst, dstlen, &at, (const char *)s, 1) : put(dst, dstlen, &at, esc, 4)))
            return finish(dst, dstlen, at, 1);
    }
    return finish(dst, dstlen, at, 0);
}
