"""Prometheus metrics of the shared mechanisms. Names follow `qlcb_<area>_<what>_<unit>`."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

GRPC_REQUESTS = Counter(
    "qlcb_grpc_server_requests_total",
    "gRPC calls handled, by method and status code",
    ["service", "method", "code"],
)
GRPC_DURATION = Histogram(
    "qlcb_grpc_server_request_duration_seconds",
    "gRPC call duration",
    ["service", "method"],
    buckets=LATENCY_BUCKETS,
)
HTTP_REQUESTS = Counter(
    "qlcb_http_server_requests_total",
    "HTTP requests handled, by route template and status",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "qlcb_http_server_request_duration_seconds",
    "HTTP request duration",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)
OUTBOX_PUBLISHED = Counter("qlcb_outbox_events_published_total", "Outbox events acknowledged by JetStream", ["service"])
OUTBOX_PUBLISH_FAILURES = Counter(
    "qlcb_outbox_publish_failures_total", "Relay rounds that failed to publish", ["service"]
)
OUTBOX_DEDUPLICATED = Counter(
    "qlcb_outbox_events_deduplicated_total",
    "Outbox events JetStream acknowledged as duplicates: published again after a crash between their "
    "acknowledgement and the marking of their rows, and dropped by the stream's duplicate window",
    ["service"],
)
OUTBOX_PENDING = Gauge("qlcb_outbox_events_pending", "Outbox events not yet published (last relay round)", ["service"])
EVENTS_CONSUMED = Counter(
    "qlcb_events_consumed_total",
    "Events taken from JetStream by a consumer, by outcome (applied, duplicate, retried, dead_lettered)",
    ["consumer", "outcome"],
)
EVENTS_DEAD_LETTERED = Counter(
    "qlcb_events_dead_lettered_total",
    "Messages a consumer refused and kept in its dead_letters table; reason is the first field named",
    ["stream", "subject", "reason"],
)
EVENT_IDS_PRUNED = Counter(
    "qlcb_events_processed_ids_pruned_total",
    "Ids of processed events a consumer deleted from its inbox: at or below its ack floor, and kept longer than "
    "its service's INBOX_KEPT_DAYS",
    ["consumer"],
)
CONSUMER_POSITION_UNKNOWN = Gauge(
    "qlcb_events_consumer_position_unknown",
    "1 while a consumer is not created because it forgot ids of events it applied and the stream, made again, "
    "no longer shows where it stood; it consumes nothing until an operator creates it at its position",
    ["consumer"],
)
EVENT_LAG = Histogram(
    "qlcb_event_lag_seconds",
    "Time from the producer's commit to the consumer's commit of its effect",
    ["consumer"],
    buckets=LATENCY_BUCKETS,
)
AUTH_FAILURES = Counter(
    "qlcb_auth_failures_total",
    "Requests refused for an invalid bearer token",
    ["service", "reason"],
)
AUTHZ_REFUSALS = Counter(
    "qlcb_authz_refusals_total",
    "Calls the authorization policy refused (out of scope answers as not found, which this still counts)",
    ["section", "action"],
)
TLS_CERTIFICATE_NOT_AFTER = Gauge(
    "qlcb_tls_certificate_not_after_timestamp_seconds",
    "When the certificate a service serves expires (its notAfter), by listener (grpc, https)",
    ["service", "listener"],
)
