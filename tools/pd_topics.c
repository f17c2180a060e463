/*
 * pd_topics.c
 *    Creates topics with a number of partitions and a replication factor on
 *    a real Kafka cluster through the Admin API (CreateTopics). A topic that
 *    already exists is fine: it is reported, with its partition count, and
 *    left as it is.
 *
 * A real cluster answers CreateTopics once its controller has recorded the
 * topic; the brokers learn of it a moment later. So a created topic is
 * reported only when the cluster's metadata shows it with a leader for every
 * partition: a producer started right after pd_topics finds it.
 *
 * Owns only the command line and the Admin API round trip. pd_broker (the
 * embedded mock cluster) does not serve CreateTopics: it creates its topics
 * itself (pd_broker --topics).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "tool_util.h"

#define DEFAULT_BROKERS "127.0.0.1:9092"

static void
usage(FILE *out)
{
	fprintf(out,
	        "Usage: pd_topics [OPTIONS] TOPIC...\n"
	        "\n"
	        "Creates the topics on a Kafka cluster (Admin API CreateTopics). "
	        "A topic that\n"
	        "already exists is not an error: it is reported and left "
	        "unchanged.\n"
	        "Exit status 0 if every topic exists afterwards, 1 if not, 2 for "
	        "usage.\n"
	        "\n"
	        "Options:\n"
	        "  --brokers LIST     bootstrap servers (default $PD_BROKERS, "
	        "else " DEFAULT_BROKERS ")\n"
	        "  --partitions N     partitions per topic (default 6)\n"
	        "  --replication R    replication factor (default 1)\n"
	        "  --config KEY=VAL   a topic setting, e.g. retention.ms=86400000 "
	        "(repeatable)\n"
	        "  --timeout MS       how long to wait for the cluster (default "
	        "30000)\n"
	        "  -X KEY=VALUE       a librdkafka client property "
	        "(repeatable)\n"
	        "  -h, --help         this help\n"
	        "\n"
	        "Example: pd_topics --brokers 127.0.0.1:9092 --partitions 12 "
	        "--replication 1 \\\n"
	        "           transactions-stream predictions-stream "
	        "interventions-stream\n");
}

/* The partition count of an existing topic, -1 if it cannot be read. */
static int
existing_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md;
	int n = -1;

	if (rkt == NULL)
		return -1;
	if (rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) ==
	    RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		if (md->topic_cnt == 1 && md->topics[0].err == 0)
			n = md->topics[0].partition_cnt;
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(rkt);
	return n;
}

/*
 * The partition count of a topic whose every partition has a leader, -1
 * while the metadata does not show it so (yet).
 */
static int
led_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md;
	int n = -1;

	if (rkt == NULL)
		return -1;
	if (rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) ==
	    RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		if (md->topic_cnt == 1 && md->topics[0].err == 0 &&
		    md->topics[0].partition_cnt > 0)
		{
			n = md->topics[0].partition_cnt;
			for (int p = 0; p < md->topics[0].partition_cnt; p++)
				if (md->topics[0].partitions[p].err != 0 ||
				    md->topics[0].partitions[p].leader < 0)
					n = -1;
		}
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(rkt);
	return n;
}

/* Waits until a new topic is led everywhere; false after timeout_ms. */
static bool
wait_until_led(rd_kafka_t *rk, const char *topic, long timeout_ms)
{
	double deadline = tool_monotonic() + timeout_ms / 1000.0;

	for (;;)
	{
		if (led_partitions(rk, topic, 2000) > 0)
			return true;
		if (tool_monotonic() >= deadline)
			return false;
		usleep(100 * 1000);
	}
}

int
main(int argc, char **argv)
{
	const char *env = getenv("PD_BROKERS");
	const char *brokers = env && *env ? env : DEFAULT_BROKERS;
	long partitions = 6;
	long replication = 1;
	long timeout_ms = 30000;
	const char *configs[64];
	int nconfigs = 0;
	const char *props[64];
	int nprops = 0;
	const char **topics = calloc(argc, sizeof(char *));
	int ntopics = 0;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_NewTopic_t **new_topics;
	rd_kafka_AdminOptions_t *options;
	rd_kafka_queue_t *queue;
	rd_kafka_event_t *event;
	const rd_kafka_CreateTopics_result_t *result;
	const rd_kafka_topic_result_t **results;
	size_t nresults;
	char err[512];
	int failures = 0;

	tool_name = "pd_topics";
	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
		{
			usage(stdout);
			free(topics);
			return 0;
		}
		else if (tool_is_option(arg, "--brokers"))
			brokers = tool_option_value(argc, argv, &i);
		else if (tool_is_option(arg, "--partitions"))
		{
			if (!tool_parse_long(tool_option_value(argc, argv, &i), 1, 100000,
			                     &partitions))
				tool_die(TOOL_EXIT_USAGE, "--partitions: a number >= 1");
		}
		else if (tool_is_option(arg, "--replication"))
		{
			if (!tool_parse_long(tool_option_value(argc, argv, &i), 1, 32767,
			                     &replication))
				tool_die(TOOL_EXIT_USAGE, "--replication: a number >= 1");
		}
		else if (tool_is_option(arg, "--timeout"))
		{
			if (!tool_parse_long(tool_option_value(argc, argv, &i), 1, 3600000,
			                     &timeout_ms))
				tool_die(TOOL_EXIT_USAGE, "--timeout: milliseconds >= 1");
		}
		else if (tool_is_option(arg, "--config"))
		{
			const char *v = tool_option_value(argc, argv, &i);

			if (strchr(v, '=') == NULL || *v == '=' || nconfigs == 64)
				tool_die(TOOL_EXIT_USAGE, "--config expects KEY=VALUE, e.g. "
				                          "retention.ms=86400000");
			configs[nconfigs++] = v;
		}
		else if (strncmp(arg, "-X", 2) == 0)
		{
			const char *v =
			    arg[2] ? arg + 2 : tool_option_value(argc, argv, &i);

			if (nprops == 64)
				tool_die(TOOL_EXIT_USAGE, "too many -X options");
			props[nprops++] = v;
		}
		else if (arg[0] == '-')
			tool_die(TOOL_EXIT_USAGE, "unknown option \"%s\" (see --help)",
			         arg);
		else
			topics[ntopics++] = arg;
	}
	if (ntopics == 0)
		tool_die(TOOL_EXIT_USAGE, "name at least one topic (see --help)");

	conf = rd_kafka_conf_new();
	tool_kafka_set(conf, "bootstrap.servers", brokers);
	tool_kafka_set(conf, "client.id", "pd_topics");
	tool_kafka_set(conf, "log_level", "3");
	for (int i = 0; i < nprops; i++)
		tool_kafka_set_pair(conf, props[i]);
	rd_kafka_conf_set_log_cb(conf, tool_kafka_log);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (rk == NULL)
		tool_die(TOOL_EXIT_FAILURE, "cannot create the client: %s", err);

	new_topics = calloc(ntopics, sizeof(*new_topics));
	for (int t = 0; t < ntopics; t++)
	{
		new_topics[t] = rd_kafka_NewTopic_new(
		    topics[t], (int) partitions, (int) replication, err, sizeof(err));
		if (new_topics[t] == NULL)
			tool_die(TOOL_EXIT_USAGE, "topic %s: %s", topics[t], err);
		for (int c = 0; c < nconfigs; c++)
		{
			char key[256];
			const char *eq = strchr(configs[c], '=');
			size_t klen = (size_t) (eq - configs[c]);
			rd_kafka_resp_err_t e;

			if (klen >= sizeof(key))
				tool_die(TOOL_EXIT_USAGE, "--config key too long");
			memcpy(key, configs[c], klen);
			key[klen] = '\0';
			e = rd_kafka_NewTopic_set_config(new_topics[t], key, eq + 1);
			if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
				tool_die(TOOL_EXIT_USAGE, "--config %s: %s", configs[c],
				         rd_kafka_err2str(e));
		}
	}

	options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	if (rd_kafka_AdminOptions_set_operation_timeout(options, (int) timeout_ms,
	                                                err, sizeof(err)) ||
	    rd_kafka_AdminOptions_set_request_timeout(options, (int) timeout_ms,
	                                              err, sizeof(err)))
		tool_die(TOOL_EXIT_USAGE, "--timeout: %s", err);
	queue = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, new_topics, ntopics, options, queue);
	/* the request holds its own copy; freed now, no exit path leaks it */
	rd_kafka_AdminOptions_destroy(options);

	/* one result event for the whole request */
	event = rd_kafka_queue_poll(queue, (int) timeout_ms + 5000);
	if (event == NULL)
		tool_die(TOOL_EXIT_FAILURE,
		         "no answer from %s within %ld ms: is the cluster up?",
		         brokers, timeout_ms);
	if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		rd_kafka_resp_err_t e = rd_kafka_event_error(event);
		const char *msg = rd_kafka_event_error_string(event);
		/* the mock cluster names no controller and has no CreateTopics */
		bool mock_like = e == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
		                 e == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
		                 (msg != NULL && strstr(msg, "controller") != NULL);
		char reason[512];

		/* copied out, then everything freed: no exit path leaks */
		snprintf(reason, sizeof(reason), "%s",
		         msg ? msg : rd_kafka_err2str(e));
		rd_kafka_event_destroy(event);
		rd_kafka_queue_destroy(queue);
		rd_kafka_NewTopic_destroy_array(new_topics, ntopics);
		free(new_topics);
		free(topics);
		rd_kafka_destroy(rk);
		tool_die(TOOL_EXIT_FAILURE, "CreateTopics failed: %s%s", reason,
		         mock_like ? " (if this is pd_broker, the embedded broker: "
		                     "it cannot create topics through the Admin API; "
		                     "start it with --topics instead)"
		                   : "");
	}
	result = rd_kafka_event_CreateTopics_result(event);
	results = rd_kafka_CreateTopics_result_topics(result, &nresults);
	for (size_t r = 0; r < nresults; r++)
	{
		const char *name = rd_kafka_topic_result_name(results[r]);
		rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[r]);

		if (e == RD_KAFKA_RESP_ERR_NO_ERROR &&
		    wait_until_led(rk, name, timeout_ms))
			printf("created %s (%ld partitions, replication %ld)\n", name,
			       partitions, replication);
		else if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			tool_warn("created %s, but after %ld ms the cluster's metadata "
			          "still shows no leader for all its partitions: check "
			          "the brokers' logs",
			          name, timeout_ms);
			failures++;
		}
		else if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
		{
			int n = existing_partitions(rk, name, (int) timeout_ms);

			if (n >= 0)
				printf("exists  %s (%d partitions)\n", name, n);
			else
				printf("exists  %s\n", name);
			if (n >= 0 && n != partitions)
				tool_warn("%s has %d partitions, not %ld: left unchanged",
				          name, n, partitions);
		}
		else
		{
			const char *msg = rd_kafka_topic_result_error_string(results[r]);

			tool_warn("cannot create %s: %s", name,
			          msg ? msg : rd_kafka_err2str(e));
			failures++;
		}
	}
	fflush(stdout);

	rd_kafka_event_destroy(event);
	rd_kafka_queue_destroy(queue);
	rd_kafka_NewTopic_destroy_array(new_topics, ntopics);
	free(new_topics);
	free(topics);
	rd_kafka_destroy(rk);
	return failures ? TOOL_EXIT_FAILURE : 0;
}
