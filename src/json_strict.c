/*
 * json_strict.c
 *    An RFC 8259 check of a payload before json-c parses it. json-c's
 *    strict mode still takes single-quoted strings, NaN and Infinity, raw
 *    control characters in strings and "1." numbers; this scanner refuses
 *    them, checks UTF-8 and surrogate escapes, and bounds the nesting.
 *
 * It can also note where the top-level object's members of given names
 * are, so that the event parser reads a flat event without building a
 * json-c tree (pd_json_strict_members).
 *
 * Pure C, no allocation, no Postgres: part of the event parser that the
 * fuzzer and the standalone unit test link on their own.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "json_strict.h"

typedef struct StrictScan
{
	const unsigned char *start;
	const unsigned char *p;
	const unsigned char *end;
	const char *why; /* what is wrong at p, once it failed */
	/* pd_json_strict_members: the names wanted and where they were found */
	const char *const *names;
	int n_names;
	size_t name_len[PD_JSON_MAX_NAMES];
	int next_name; /* where to start looking for the next key */
	PdJsonMember *members;
	bool unescaped_names;
	bool escaped; /* the last string scanned held an escape */
} StrictScan;

static bool
strict_fail(StrictScan *s, const char *why)
{
	s->why = why;
	return false;
}

static void
strict_skip_space(StrictScan *s)
{
	while (s->p < s->end && is_json_space((char) *s->p))
		s->p++;
}

/* The 4 hex digits of a \u escape, p just past the 'u'. */
static bool
strict_hex4(StrictScan *s, unsigned *code)
{
	unsigned v = 0;

	if (s->end - s->p < 4)
		return strict_fail(s, "unterminated \\u escape");
	for (int i = 0; i < 4; i++)
	{
		int h = hex_value(s->p[i]);

		if (h < 0)
			return strict_fail(s, "bad \\u escape");
		v = v * 16 + (unsigned) h;
	}
	s->p += 4;
	*code = v;
	return true;
}

/*
 * The length of the well-formed UTF-8 sequence at p (Unicode's table 3-7:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static int
utf8_sequence_length(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	int n;
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	}
	else
		return 0;
	if (end - p < n || p[1] < lo || p[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

static bool
strict_string(StrictScan *s)
{
	s->escaped = false;
	s->p++; /* the opening quote */
	while (s->p < s->end)
	{
		unsigned char c = *s->p;

		/* most bytes of an event: plain ASCII, nothing to decide */
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')
		{
			s->p++;
			continue;
		}
		if (c == '"')
		{
			s->p++;
			return true;
		}
		if (c < 0x20)
			return strict_fail(s, "control character in a string");
		if (c == '\\')
		{
			unsigned code;

			if (s->end - s->p < 2)
				break;
			s->escaped = true;
			c = s->p[1];
			s->p += 2;
			switch (c)
			{
				case '"':
				case '\\':
				case '/':
				case 'b':
				case 'f':
				case 'n':
				case 'r':
				case 't':
					break;
				case 'u':
					if (!strict_hex4(s, &code))
						return false;
					if (code >= 0xDC00 && code <= 0xDFFF)
						return strict_fail(s, "unpaired low surrogate");
					if (code >= 0xD800 && code <= 0xDBFF)
					{
						if (s->end - s->p < 2 || s->p[0] != '\\' ||
						    s->p[1] != 'u')
							return strict_fail(s, "unpaired high surrogate");
						s->p += 2;
						if (!strict_hex4(s, &code))
							return false;
						if (code < 0xDC00 || code > 0xDFFF)
							return strict_fail(s, "unpaired high surrogate");
					}
					break;
				default:
					s->p--;
					return strict_fail(s, "bad escape in a string");
			}
			continue;
		}
		else
		{
			int n = utf8_sequence_length(s->p, s->end);

			if (n == 0)
				return strict_fail(s, "invalid UTF-8 in a string");
			s->p += n;
		}
	}
	return strict_fail(s, "unterminated string");
}

static bool
strict_digits(StrictScan *s)
{
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return strict_fail(s, "digit expected in a number");
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return true;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
strict_number(StrictScan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
	{
		s->p++;
		if (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			return strict_fail(s, "leading zero in a number");
	}
	else if (!strict_digits(s))
		return false;
	if (s->p < s->end && *s->p == '.')
	{
		s->p++;
		if (!strict_digits(s))
			return false;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
	{
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!strict_digits(s))
			return false;
	}
	return true;
}

static bool
strict_literal(StrictScan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t) (s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return strict_fail(s, "unexpected character");
	s->p += n;
	return true;
}

/* The member slot of a top-level key, or NULL when it is not wanted. */
static PdJsonMember *
wanted_member(StrictScan *s, const unsigned char *key,
              const unsigned char *key_end)
{
	size_t len = (size_t) (key_end - key);

	if (s->escaped)
	{
		s->unescaped_names = false;
		return NULL;
	}
	/*
	 * From the name after the last one found: producers write the keys in
	 * one order, usually the caller's.
	 */
	for (int k = 0, i = s->next_name; k < s->n_names; k++, i++)
	{
		if (i == s->n_names)
			i = 0;
		if (s->name_len[i] == len && memcmp(s->names[i], key, len) == 0)
		{
			s->next_name = i + 1;
			return &s->members[i];
		}
	}
	return NULL;
}

/*
 * A wanted member's value, which strict_value has just scanned from value
 * (its first byte) to s->p. A later member of the same name replaces it.
 */
static void
note_member(StrictScan *s, PdJsonMember *member, const unsigned char *value)
{
	member->present = true;
	member->first = (char) *value;
	member->escaped = *value == '"' && s->escaped;
	if (*value == '"')
	{
		member->text = (const char *) value + 1;
		member->len = (size_t) (s->p - value) - 2;
	}
	else
	{
		member->text = (const char *) value;
		member->len = (size_t) (s->p - value);
	}
}

/* One value and the white space before it; depth counts enclosing levels. */
static bool
strict_value(StrictScan *s, int depth)
{
	unsigned char close;

	strict_skip_space(s);
	if (s->p >= s->end)
		return strict_fail(s, "unexpected end of input");
	switch (*s->p)
	{
		case '"':
			return strict_string(s);
		case 't':
			return strict_literal(s, "true");
		case 'f':
			return strict_literal(s, "false");
		case 'n':
			return strict_literal(s, "null");
		case '{':
		case '[':
			break;
		default:
			if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
				return strict_number(s);
			return strict_fail(s, "unexpected character");
	}

	/* an object or an array */
	if (depth >= PD_EVENT_MAX_DEPTH)
		return strict_fail(s, "nested too deeply");
	close = *s->p == '{' ? '}' : ']';
	s->p++;
	strict_skip_space(s);
	if (s->p < s->end && *s->p == close)
	{
		s->p++;
		return true;
	}
	for (;;)
	{
		PdJsonMember *member = NULL;
		const unsigned char *value = NULL;

		if (close == '}')
		{
			const unsigned char *key;

			strict_skip_space(s);
			if (s->p >= s->end)
				return strict_fail(s, "unexpected end of input");
			if (*s->p != '"')
				return strict_fail(s, "object key expected");
			key = s->p + 1;
			if (!strict_string(s))
				return false;
			if (depth == 0 && s->members != NULL)
				member = wanted_member(s, key, s->p - 1);
			strict_skip_space(s);
			if (s->p >= s->end)
				return strict_fail(s, "unexpected end of input");
			if (*s->p != ':')
				return strict_fail(s, "':' expected");
			s->p++;
		}
		if (member != NULL)
		{
			strict_skip_space(s);
			value = s->p;
		}
		if (!strict_value(s, depth + 1))
			return false;
		if (member != NULL)
			note_member(s, member, value);
		strict_skip_space(s);
		if (s->p >= s->end)
			return strict_fail(s, "unexpected end of input");
		if (*s->p == close)
		{
			s->p++;
			return true;
		}
		if (*s->p != ',')
			return strict_fail(s, close == '}' ? "',' or '}' expected"
			                                   : "',' or ']' expected");
		s->p++;
	}
}

static bool
strict_scan(StrictScan *s, const char *payload, size_t len,
            size_t *error_offset, const char **why)
{
	s->start = (const unsigned char *) payload;
	s->p = s->start;
	s->end = s->start + len;
	s->why = NULL;
	if (strict_value(s, 0))
	{
		strict_skip_space(s);
		if (s->p == s->end)
			return true;
		s->why = "trailing characters after the JSON value";
	}
	*error_offset = (size_t) (s->p - s->start);
	*why = s->why;
	return false;
}

bool
pd_json_strict(const char *payload, size_t len, size_t *error_offset,
               const char **why)
{
	StrictScan s;

	memset(&s, 0, sizeof(s));
	return strict_scan(&s, payload, len, error_offset, why);
}

bool
pd_json_strict_members(const char *payload, size_t len,
                       const char *const *names, int n_names,
                       PdJsonMember *members, bool *unescaped_names,
                       size_t *error_offset, const char **why)
{
	StrictScan s;
	bool ok;

	memset(&s, 0, sizeof(s));
	memset(members, 0, sizeof(PdJsonMember) * n_names);
	if (n_names > PD_JSON_MAX_NAMES)
	{
		*error_offset = 0;
		*why = "too many member names asked for";
		return false;
	}
	for (int i = 0; i < n_names; i++)
		s.name_len[i] = strlen(names[i]);
	s.names = names;
	s.n_names = n_names;
	s.members = members;
	s.unescaped_names = true;
	ok = strict_scan(&s, payload, len, error_offset, why);
	*unescaped_names = s.unescaped_names;
	return ok;
}
