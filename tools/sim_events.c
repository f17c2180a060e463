/*
 * sim_events.c
 *    Transaction events as JSON (json-c) in the seed's schema, and their
 *    malformed variants for --bad-fraction.
 *
 * Schema: {"event_id", "customer_id", "txn_time", "amount", "txn_type",
 * "category", "channel", "merchant_id" (string or null), "is_failed",
 * "event_time", "event_type": "transaction"}; amounts are JSON numbers
 * written with exactly the digits of the decimal (no binary rounding).
 */
#include "sim_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

const char *const sim_bad_kind_names[N_BAD_KINDS] = {
    [BAD_TRUNCATED] = "truncated",
    [BAD_WRONG_TYPE] = "wrong_type",
    [BAD_UNKNOWN_CUSTOMER] = "unknown_customer",
    [BAD_NEGATIVE_AMOUNT] = "negative_amount",
    [BAD_UNKNOWN_CATEGORY] = "unknown_category",
    [BAD_MISSING_FIELD] = "missing_field",
    [BAD_GARBAGE] = "binary_garbage",
};

static void
payload_set(Payload *out, const char *data, size_t len)
{
	if (len + 1 > out->capacity)
	{
		out->capacity = len + 1 > 1024 ? 2 * (len + 1) : 1024;
		out->data = realloc(out->data, out->capacity);
		if (out->data == NULL)
			tool_die(TOOL_EXIT_FAILURE, "out of memory");
	}
	memcpy(out->data, data, len);
	out->data[len] = '\0';
	out->len = len;
}

static json_object *
amount_json(const char *text)
{
	return json_object_new_double_s(strtod(text, NULL), text);
}

static json_object *
event_object(const SimEvent *ev, const char *event_time)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "event_id",
	                       json_object_new_string(ev->event_id));
	json_object_object_add(o, "customer_id",
	                       json_object_new_string(ev->customer_id));
	json_object_object_add(o, "txn_time",
	                       json_object_new_string(ev->txn_time));
	json_object_object_add(o, "amount", amount_json(ev->amount));
	json_object_object_add(o, "txn_type",
	                       json_object_new_string(ev->txn_type));
	json_object_object_add(o, "category",
	                       json_object_new_string(ev->category));
	json_object_object_add(o, "channel", json_object_new_string(ev->channel));
	json_object_object_add(
	    o, "merchant_id",
	    ev->merchant_id ? json_object_new_string(ev->merchant_id) : NULL);
	json_object_object_add(o, "is_failed",
	                       json_object_new_boolean(ev->is_failed));
	json_object_object_add(o, "event_time",
	                       json_object_new_string(event_time));
	json_object_object_add(o, "event_type",
	                       json_object_new_string("transaction"));
	return o;
}

static void
render_object(json_object *o, Payload *out)
{
	size_t len;
	const char *s = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	payload_set(out, s, len);
}

/*
 * Valid events reuse one object, changing its values in place: json-c then
 * allocates almost nothing per event, which doubles the rate of a flood.
 */
void
sim_render_event(const SimEvent *ev, const char *event_time, Payload *out)
{
	static json_object *o;
	static json_object *f[11];

	if (o == NULL)
	{
		o = event_object(ev, event_time);
		f[0] = json_object_object_get(o, "event_id");
		f[1] = json_object_object_get(o, "customer_id");
		f[2] = json_object_object_get(o, "txn_time");
		f[4] = json_object_object_get(o, "txn_type");
		f[5] = json_object_object_get(o, "category");
		f[6] = json_object_object_get(o, "channel");
		f[8] = json_object_object_get(o, "is_failed");
		f[9] = json_object_object_get(o, "event_time");
	}
	else
	{
		json_object_set_string(f[0], ev->event_id);
		json_object_set_string(f[1], ev->customer_id);
		json_object_set_string(f[2], ev->txn_time);
		json_object_set_string(f[4], ev->txn_type);
		json_object_set_string(f[5], ev->category);
		json_object_set_string(f[6], ev->channel);
		json_object_set_boolean(f[8], ev->is_failed);
		json_object_set_string(f[9], event_time);
		/* these two change type or carry their text: new values */
		json_object_object_add(o, "amount", amount_json(ev->amount));
		json_object_object_add(
		    o, "merchant_id",
		    ev->merchant_id ? json_object_new_string(ev->merchant_id) : NULL);
	}
	render_object(o, out);
	snprintf(out->key, sizeof(out->key), "%s", ev->customer_id);
}

void
sim_render_bad(const SimEvent *ev, const char *event_time, BadKind kind,
               long nth, ToolRng *rng, Payload *out)
{
	static const char *const required[] = {
	    "customer_id", "txn_time", "amount", "txn_type", "category", "channel",
	};
	static const char *const categories[] = {"lottery", "crypto", "salry"};
	json_object *o = event_object(ev, event_time);
	char id[TOOL_UUID_LEN];

	snprintf(out->key, sizeof(out->key), "%s", ev->customer_id);
	switch (kind)
	{
		case BAD_TRUNCATED:
		{
			/* any proper prefix of an object is invalid JSON */
			render_object(o, out);
			out->len = (size_t) tool_rng_int(rng, 1, (long) out->len - 1);
			out->data[out->len] = '\0';
			json_object_put(o);
			return;
		}
		case BAD_WRONG_TYPE:
			switch (nth % 4)
			{
				case 0:
					json_object_object_add(
					    o, "amount", json_object_new_string("twelve hundred"));
					break;
				case 1:
					json_object_object_add(o, "is_failed",
					                       json_object_new_string("no"));
					break;
				case 2:
					json_object_object_add(o, "customer_id",
					                       json_object_new_int(12345));
					break;
				default:
					json_object_object_add(o, "txn_time",
					                       json_object_new_boolean(1));
					break;
			}
			break;
		case BAD_UNKNOWN_CUSTOMER:
			tool_rng_uuid(rng, id);
			json_object_object_add(o, "customer_id",
			                       json_object_new_string(id));
			snprintf(out->key, sizeof(out->key), "%s", id);
			break;
		case BAD_NEGATIVE_AMOUNT:
		{
			char neg[40];

			snprintf(neg, sizeof(neg), "-%s", ev->amount);
			json_object_object_add(o, "amount", amount_json(neg));
			break;
		}
		case BAD_UNKNOWN_CATEGORY:
			json_object_object_add(
			    o, "category", json_object_new_string(categories[nth % 3]));
			break;
		case BAD_MISSING_FIELD:
			json_object_object_del(o, required[nth % 6]);
			break;
		case BAD_GARBAGE:
		{
			/* 0xff starts no JSON text and no UTF-8 sequence */
			char bytes[256];
			int n = (int) tool_rng_int(rng, 16, (long) sizeof(bytes));

			bytes[0] = (char) 0xff;
			for (int i = 1; i < n; i++)
				bytes[i] = (char) tool_rng_int(rng, 0, 255);
			payload_set(out, bytes, (size_t) n);
			json_object_put(o);
			return;
		}
		case N_BAD_KINDS:
			break;
	}
	render_object(o, out);
	json_object_put(o);
}
