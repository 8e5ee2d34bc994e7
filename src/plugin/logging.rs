//! hclog-compatible JSON logging to stderr.
//!
//! go-plugin (inside Terraform/OpenTofu) reads the provider's stderr line by
//! line. A line that parses as a JSON object with `@level`, `@message` and an
//! `@timestamp` in the layout `2006-01-02T15:04:05.000000Z07:00` (exactly six
//! fractional digits) is re-emitted through Terraform's own logger at that
//! level, with every other key kept as a key/value pair. Anything else is
//! logged verbatim at DEBUG.
//!
//! Each line written here therefore carries:
//!
//! * `@level`: `trace` | `debug` | `info` | `warn` | `error`
//! * `@message`: the event's `message` field
//! * `@timestamp`: UTC, RFC 3339 with microseconds (`2026-12-03T18:40:00.123456Z`)
//! * `@module`: the logger name. terraform-plugin-go names the provider root
//!   logger after the provider type (`hikube`), so we do the same.
//! * `@caller`: `file:line` of the log statement, when known
//! * every field of the event and of its enclosing spans (innermost wins).
//!   Use the terraform-plugin-go key names for request context, see
//!   [`KEY_PROVIDER_ADDR`], [`KEY_RPC`], [`KEY_REQ_ID`], [`KEY_RESOURCE_TYPE`],
//!   [`KEY_DATA_SOURCE_TYPE`], e.g.
//!   `tracing::info_span!("rpc", tf_rpc = "PlanResourceChange", tf_req_id = %id)`.
//!
//! Level selection mirrors Terraform and terraform-plugin-go: the first set
//! of `TF_LOG_PROVIDER_HIKUBE`, `TF_LOG_PROVIDER`, `TF_LOG` decides
//! (`TRACE`/`DEBUG`/`INFO`/`WARN`/`ERROR`/`OFF`/`JSON`, case-insensitive;
//! `JSON` means `TRACE`, an unrecognised value means `TRACE`). When none is
//! set nothing is emitted: Terraform would discard provider output at that
//! point anyway (its provider logger is `Off` unless `TF_LOG_PROVIDER` or
//! `TF_LOG` is set), so there is no point in producing it.
//!
//! Secrets are never logged; where a value must be mentioned, use
//! [`redact`].

use std::fmt;
use std::io::Write;
use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Default `@module` value (the provider type, like terraform-plugin-go).
pub const DEFAULT_MODULE: &str = "hikube";

/// Provider-specific level variable (terraform-plugin-go convention).
pub const ENV_TF_LOG_PROVIDER_HIKUBE: &str = "TF_LOG_PROVIDER_HIKUBE";
/// Level for all providers.
pub const ENV_TF_LOG_PROVIDER: &str = "TF_LOG_PROVIDER";
/// Global Terraform level.
pub const ENV_TF_LOG: &str = "TF_LOG";

/// Field key: provider source address.
pub const KEY_PROVIDER_ADDR: &str = "tf_provider_addr";
/// Field key: RPC name (e.g. `PlanResourceChange`).
pub const KEY_RPC: &str = "tf_rpc";
/// Field key: per-request id.
pub const KEY_REQ_ID: &str = "tf_req_id";
/// Field key: managed resource type.
pub const KEY_RESOURCE_TYPE: &str = "tf_resource_type";
/// Field key: data source type.
pub const KEY_DATA_SOURCE_TYPE: &str = "tf_data_source_type";
/// Field key: request duration in milliseconds.
pub const KEY_REQ_DURATION_MS: &str = "tf_req_duration_ms";

/// Placeholder to log instead of a sensitive value.
pub fn redact(_value: &str) -> &'static str {
    "<redacted>"
}

/// Parses a Terraform log level value (`TRACE`, `DEBUG`, `INFO`, `WARN`,
/// `ERROR`, `OFF`, `JSON`; case-insensitive). `None`/empty means off; an
/// unknown value means trace, as in Terraform.
pub fn parse_level(value: Option<&str>) -> LevelFilter {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return LevelFilter::OFF;
    };
    match v.to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" => LevelFilter::WARN,
        "ERROR" => LevelFilter::ERROR,
        "OFF" => LevelFilter::OFF,
        _ => LevelFilter::TRACE,
    }
}

/// Level from the environment (`TF_LOG_PROVIDER_HIKUBE`, then
/// `TF_LOG_PROVIDER`, then `TF_LOG`; first non-empty wins).
pub fn level_from_env() -> LevelFilter {
    level_from(|k| std::env::var(k).ok())
}

fn level_from(get: impl Fn(&str) -> Option<String>) -> LevelFilter {
    let v = [ENV_TF_LOG_PROVIDER_HIKUBE, ENV_TF_LOG_PROVIDER, ENV_TF_LOG]
        .into_iter()
        .filter_map(get)
        .find(|v| !v.trim().is_empty());
    parse_level(v.as_deref())
}

/// Crates whose TRACE/DEBUG output is transport noise (HTTP/2 frames, TLS
/// records, ...). They are capped at INFO even when TRACE is requested.
const NOISY_TARGETS: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tower",
    "tower_http",
    "tonic",
    "rustls",
    "tokio_util",
    "mio",
    "want",
];

/// Builds the target filter for a given maximum level.
pub fn env_filter(level: LevelFilter) -> tracing_subscriber::EnvFilter {
    let capped = if level > LevelFilter::INFO {
        LevelFilter::INFO
    } else {
        level
    };
    let mut directives = level.to_string().to_ascii_lowercase();
    for t in NOISY_TARGETS {
        directives.push_str(&format!(",{t}={}", capped.to_string().to_ascii_lowercase()));
    }
    tracing_subscriber::EnvFilter::builder()
        .with_default_directive(level.into())
        .parse_lossy(directives)
}

/// Installs the global subscriber (hclog JSON on stderr, level from the
/// environment) and bridges the `log` crate. Safe to call more than once;
/// only the first call has an effect, and an already installed global
/// subscriber is left alone.
pub fn init_logging() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let level = level_from_env();
        let _ = tracing_subscriber::registry()
            .with(HclogLayer::new(std::io::stderr).with_filter(env_filter(level)))
            .try_init();
    });
}

/// A [`Layer`] writing one hclog-style JSON object per event.
#[derive(Debug, Clone)]
pub struct HclogLayer<W> {
    make_writer: W,
    module: String,
}

impl<W> HclogLayer<W>
where
    W: for<'a> MakeWriter<'a> + 'static,
{
    /// New layer writing to `make_writer` (e.g. `std::io::stderr`) with
    /// `@module` = [`DEFAULT_MODULE`].
    pub fn new(make_writer: W) -> Self {
        Self {
            make_writer,
            module: DEFAULT_MODULE.to_owned(),
        }
    }

    /// Overrides the `@module` value.
    pub fn with_module(mut self, module: impl Into<String>) -> Self {
        self.module = module.into();
        self
    }
}

/// Span fields, stored in the span's extensions.
struct SpanFields(Map<String, Value>);

/// Collects fields into a JSON map; `log` bridge metadata is diverted.
#[derive(Default)]
struct JsonVisitor {
    fields: Map<String, Value>,
    log_file: Option<String>,
    log_line: Option<u64>,
}

impl JsonVisitor {
    fn put(&mut self, field: &Field, value: Value) {
        match field.name() {
            "log.file" => {
                if let Value::String(s) = value {
                    self.log_file = Some(s);
                }
            }
            "log.line" => self.log_line = value.as_u64(),
            "log.target" | "log.module_path" => {}
            name => {
                // Names like `r#type` arrive without the raw prefix already.
                self.fields.insert(name.to_owned(), value);
            }
        }
    }
}

impl Visit for JsonVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let v = serde_json::Number::from_f64(value)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(value.to_string()));
        self.put(field, v);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        let v = i64::try_from(value)
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(value.to_string()));
        self.put(field, v);
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        let v = u64::try_from(value)
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(value.to_string()));
        self.put(field, v);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

fn level_str(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut v = JsonVisitor::default();
        attrs.record(&mut v);
        span.extensions_mut().insert(SpanFields(v.fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut v = JsonVisitor::default();
        values.record(&mut v);
        let mut ext = span.extensions_mut();
        match ext.get_mut::<SpanFields>() {
            Some(existing) => existing.0.extend(v.fields),
            None => ext.insert(SpanFields(v.fields)),
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut out = Map::new();

        // Span fields, outermost first so inner spans override.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(f) = span.extensions().get::<SpanFields>() {
                    out.extend(f.0.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }

        let mut v = JsonVisitor::default();
        event.record(&mut v);
        let message = v
            .fields
            .remove("message")
            .unwrap_or(Value::String(String::new()));
        let message = match message {
            Value::String(s) => Value::String(s),
            other => Value::String(other.to_string()),
        };
        out.extend(v.fields);

        let file = v.log_file.or_else(|| meta.file().map(str::to_owned));
        let line = v.log_line.or_else(|| meta.line().map(u64::from));
        if let (Some(file), Some(line)) = (file, line) {
            out.insert("@caller".into(), Value::String(format!("{file}:{line}")));
        }
        out.insert(
            "@level".into(),
            Value::String(level_str(meta.level()).into()),
        );
        out.insert("@message".into(), message);
        out.insert("@module".into(), Value::String(self.module.clone()));
        out.insert(
            "@timestamp".into(),
            Value::String(rfc3339_micros(SystemTime::now())),
        );

        let Ok(mut buf) = serde_json::to_vec(&Value::Object(out)) else {
            return;
        };
        buf.push(b'\n');
        // One write per line so concurrent events do not interleave.
        let _ = self.make_writer.make_writer_for(meta).write_all(&buf);
    }
}

/// Formats `t` as UTC RFC 3339 with exactly six fractional digits, the
/// layout go-plugin parses (`2006-01-02T15:04:05.000000Z07:00`).
pub fn rfc3339_micros(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let micros = d.subsec_micros();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, dd) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }

    fn capture(level: LevelFilter, f: impl FnOnce()) -> Vec<Value> {
        let buf = Buf::default();
        let sub = tracing_subscriber::registry()
            .with(HclogLayer::new(buf.clone()).with_filter(env_filter(level)));
        tracing::subscriber::with_default(sub, f);
        let bytes = buf.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'));
        text.lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect()
    }

    #[test]
    fn event_has_hclog_keys_and_fields() {
        let lines = capture(LevelFilter::TRACE, || {
            let span = tracing::info_span!(
                "rpc",
                tf_rpc = "PlanResourceChange",
                tf_req_id = "abc",
                tf_resource_type = "hikube_vm"
            );
            let _g = span.enter();
            tracing::debug!(attempt = 3, ok = true, note = ?Some(1), "planning\n\"vm\"");
        });
        assert_eq!(lines.len(), 1);
        let o = lines[0].as_object().unwrap();
        assert_eq!(o["@level"], "debug");
        assert_eq!(o["@message"], "planning\n\"vm\"");
        assert_eq!(o["@module"], DEFAULT_MODULE);
        assert_eq!(o["tf_rpc"], "PlanResourceChange");
        assert_eq!(o["tf_req_id"], "abc");
        assert_eq!(o["tf_resource_type"], "hikube_vm");
        assert_eq!(o["attempt"], 3);
        assert_eq!(o["ok"], true);
        assert_eq!(o["note"], "Some(1)");
        assert!(o["@caller"].as_str().unwrap().contains("logging.rs:"));
        assert!(!o.contains_key("message"));
        let ts = o["@timestamp"].as_str().unwrap();
        // 2026-12-03T18:40:00.123456Z
        assert_eq!(ts.len(), 27, "{ts}");
        assert!(ts.ends_with('Z') && ts.as_bytes()[19] == b'.');
    }

    #[test]
    fn inner_span_and_event_fields_override() {
        let lines = capture(LevelFilter::TRACE, || {
            let outer = tracing::info_span!(
                "a",
                k = "outer",
                tf_provider_addr = "registry.terraform.io/hikube/hikube"
            );
            let _g1 = outer.enter();
            let inner = tracing::info_span!("b", k = "inner", late = tracing::field::Empty);
            inner.record("late", 7);
            let _g2 = inner.enter();
            tracing::warn!("one");
            tracing::error!(k = "event", "two");
        });
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["@level"], "warn");
        assert_eq!(lines[0]["k"], "inner");
        assert_eq!(lines[0]["late"], 7);
        assert_eq!(
            lines[0]["tf_provider_addr"],
            "registry.terraform.io/hikube/hikube"
        );
        assert_eq!(lines[1]["@level"], "error");
        assert_eq!(lines[1]["k"], "event");
    }

    #[test]
    fn level_filtering() {
        let lines = capture(LevelFilter::WARN, || {
            tracing::trace!("t");
            tracing::debug!("d");
            tracing::info!("i");
            tracing::warn!("w");
            tracing::error!("e");
        });
        let levels: Vec<_> = lines
            .iter()
            .map(|l| l["@level"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(levels, ["warn", "error"]);
        assert!(capture(LevelFilter::OFF, || tracing::error!("e")).is_empty());
    }

    #[test]
    fn noisy_targets_are_capped() {
        let lines = capture(LevelFilter::TRACE, || {
            tracing::trace!(target: "h2::codec", "frame");
            tracing::info!(target: "h2::codec", "conn");
            tracing::trace!(target: "hikube_provider::x", "ours");
        });
        let msgs: Vec<_> = lines
            .iter()
            .map(|l| l["@message"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(msgs, ["conn", "ours"]);
    }

    #[test]
    fn parse_levels() {
        assert_eq!(parse_level(None), LevelFilter::OFF);
        assert_eq!(parse_level(Some("")), LevelFilter::OFF);
        assert_eq!(parse_level(Some("json")), LevelFilter::TRACE);
        assert_eq!(parse_level(Some("Trace")), LevelFilter::TRACE);
        assert_eq!(parse_level(Some("debug")), LevelFilter::DEBUG);
        assert_eq!(parse_level(Some("INFO")), LevelFilter::INFO);
        assert_eq!(parse_level(Some("warn")), LevelFilter::WARN);
        assert_eq!(parse_level(Some("ERROR")), LevelFilter::ERROR);
        assert_eq!(parse_level(Some("off")), LevelFilter::OFF);
        assert_eq!(parse_level(Some("bogus")), LevelFilter::TRACE);
    }

    #[test]
    fn env_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(level_from(env(&[])), LevelFilter::OFF);
        assert_eq!(level_from(env(&[("TF_LOG", "info")])), LevelFilter::INFO);
        assert_eq!(
            level_from(env(&[("TF_LOG", "info"), ("TF_LOG_PROVIDER", "error")])),
            LevelFilter::ERROR
        );
        assert_eq!(
            level_from(env(&[
                ("TF_LOG", "info"),
                ("TF_LOG_PROVIDER", "error"),
                ("TF_LOG_PROVIDER_HIKUBE", "debug")
            ])),
            LevelFilter::DEBUG
        );
        assert_eq!(
            level_from(env(&[("TF_LOG", "warn"), ("TF_LOG_PROVIDER", " ")])),
            LevelFilter::WARN
        );
    }

    #[test]
    fn timestamp_format() {
        assert_eq!(rfc3339_micros(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        // 2026-12-03T18:40:00.123456Z
        let t = UNIX_EPOCH + Duration::new(1_796_323_200, 123_456_789);
        assert_eq!(rfc3339_micros(t), "2026-12-03T18:40:00.123456Z");
        // Leap day.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339_micros(t), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn redact_hides_value() {
        assert_eq!(redact("hunter2"), "<redacted>");
    }
}
