//! The Prometheus text exposition format, version 0.0.4: `# HELP` and
//! `# TYPE` once per family, then its samples, label values escaped.

use std::fmt::Write;

use super::histogram::{BOUNDS_S, Histogram};

/// The content type of a scrape's answer.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Default)]
pub struct Exposition {
    out: String,
}

/// Metric types, as `# TYPE` names them.
#[derive(Clone, Copy)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Exposition {
    /// Starts a family: every sample of `name` must follow at once.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    /// One sample of `name` with `labels` (name, value) pairs.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Into<f64>) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"");
                escape_label(&mut self.out, v);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let v: f64 = value.into();
        let _ = writeln!(self.out, " {}", number(v));
    }

    /// A family with one sample and no labels.
    pub fn single(&mut self, name: &str, kind: Kind, help: &str, value: impl Into<f64>) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }

    /// A family with one label: a sample per (value of the label, value).
    pub fn by_label(
        &mut self,
        name: &str,
        kind: Kind,
        help: &str,
        label: &str,
        samples: &[(&str, u64)],
    ) {
        self.family(name, kind, help);
        for (v, n) in samples {
            self.sample(name, &[(label, v)], *n as f64);
        }
    }

    /// The samples of a histogram: cumulative buckets, sum and count.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], h: &Histogram) {
        let (buckets, sum, count) = h.read();
        let bucket = format!("{name}_bucket");
        for (i, &n) in buckets.iter().enumerate() {
            let le = BOUNDS_S.get(i).map_or("+Inf".to_string(), |b| number(*b));
            let mut l = labels.to_vec();
            l.push(("le", &le));
            self.sample(&bucket, &l, n as f64);
        }
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, count as f64);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// A value as the format writes it: integers without a fraction.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Label values escape backslash, double quote and newline.
fn escape_label(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Help text escapes backslash and newline.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_families_samples_and_escaped_labels() {
        let mut e = Exposition::default();
        e.family("zonecast_x_total", Kind::Counter, "An x.\nTwo lines.");
        e.sample("zonecast_x_total", &[("zone", "a\"b\\c.")], 3u32);
        e.single("zonecast_y_seconds", Kind::Gauge, "A y.", 1.5);
        let h = Histogram::default();
        h.observe_ms(20);
        e.family("zonecast_h_seconds", Kind::Histogram, "An h.");
        e.histogram("zonecast_h_seconds", &[("kind", "AXFR")], &h);
        let text = e.finish();
        assert!(text.starts_with(
            "# HELP zonecast_x_total An x.\\nTwo lines.\n# TYPE zonecast_x_total counter\nzonecast_x_total{zone=\"a\\\"b\\\\c.\"} 3\n"
        ));
        assert!(text.contains("zonecast_y_seconds 1.5\n"));
        assert!(text.contains("zonecast_h_seconds_bucket{kind=\"AXFR\",le=\"0.01\"} 0\n"));
        assert!(text.contains("zonecast_h_seconds_bucket{kind=\"AXFR\",le=\"0.025\"} 1\n"));
        assert!(text.contains("zonecast_h_seconds_bucket{kind=\"AXFR\",le=\"+Inf\"} 1\n"));
        assert!(text.contains("zonecast_h_seconds_sum{kind=\"AXFR\"} 0.02\n"));
        assert!(text.contains("zonecast_h_seconds_count{kind=\"AXFR\"} 1\n"));
    }
}
