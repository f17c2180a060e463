/*
 * json_strict.h
 *    Whether a payload is one strict RFC 8259 JSON text (see json_strict.c).
 */
#ifndef PD_JSON_STRICT_H
#define PD_JSON_STRICT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Deepest nesting of objects and arrays a payload may have. A transaction
 * event is one flat object; the limit only bounds the work (and the
 * recursion) that a hostile payload can cause.
 */
#define PD_EVENT_MAX_DEPTH 16

/* JSON whitespace (RFC 8259: space, tab, line feed, carriage return). */
static inline bool
is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * The value of a hexadecimal digit, or -1. A table (of the value plus one,
 * so that every other byte is 0): every event has two uuids to decode.
 */
static inline int
hex_value(unsigned char c)
{
	static const unsigned char value_plus_one[256] = {
	    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
	    ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
	    ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16};

	return (int) value_plus_one[c] - 1;
}

/*
 * True if payload[len] is exactly one JSON value (surrounding whitespace
 * allowed); otherwise false with the byte offset and a short reason.
 */
extern bool pd_json_strict(const char *payload, size_t len,
                           size_t *error_offset, const char **why);

/*
 * A member of the top-level object, as pd_json_strict_members found it:
 * where its value's text is (a string's without its quotes), the value's
 * first character ('"', '-' or a digit, 't', 'f', 'n', '{', '['), and
 * whether a string value holds escapes (then its text is not its value).
 * present is false when the object has no member of that name.
 */
typedef struct PdJsonMember
{
	bool present;
	char first;
	bool escaped;
	const char *text;
	size_t len;
} PdJsonMember;

/*
 * pd_json_strict, and in the same pass, when the value is an object, its
 * members named names[0..n_names) into members[] (the last one wins when a
 * name repeats, as in json-c and jsonb). *unescaped_names is false when
 * some member name holds an escape (it might spell one of names once
 * decoded, so members[] cannot be trusted). At most PD_JSON_MAX_NAMES
 * names.
 */
#define PD_JSON_MAX_NAMES 32
extern bool pd_json_strict_members(const char *payload, size_t len,
                                   const char *const *names, int n_names,
                                   PdJsonMember *members,
                                   bool *unescaped_names, size_t *error_offset,
                                   const char **why);

#endif
