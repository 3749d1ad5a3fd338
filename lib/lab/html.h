/* html: writing HTML safely to a stdio stream: text escaped for element
 * content and attribute values, and the document's head and tail. Writes only;
 * the caller checks ferror(). Thread-safe for distinct streams. */
#ifndef STT_HTML_H
#define STT_HTML_H

#include <stdio.h>

/* Writes s (NULL writes nothing) with & < > " ' escaped. */
void stt_html_escape(FILE *f, const char *s);

/* Writes the doctype, <head> (UTF-8, viewport, escaped title, style: CSS text
 * written as it is, ending in a newline) and opens <body>. */
void stt_html_begin(FILE *f, const char *title, const char *style);

/* Closes <body> and <html>. */
void stt_html_end(FILE *f);

#endif
