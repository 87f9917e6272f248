//! Metric series in the store: how a sample of a family's series maps to a key, which writers
//! (the binding's mirrors) and readers (the scrape) share.

use std::sync::Arc;

use pyrometer_core::{FamilyMeta, Label};

pub(crate) use key::decode;

/// The key of one sample of a series: the family (type, name, help, unit), the sample's suffix,
/// its labels in order and its extra label (a bucket's `le`), each length-prefixed.
#[must_use]
pub fn series_key(meta: &FamilyMeta, suffix: &str, labels: &[(Arc<str>, Arc<str>)], extra: Option<&Label>) -> Vec<u8> {
    key::encode(meta, suffix, labels, extra)
}

/// The suffixes store keys carry, as the `'static` names samples use.
pub(crate) fn static_suffix(suffix: &str) -> &'static str {
    match suffix {
        "_total" => "_total",
        "_count" => "_count",
        "_sum" => "_sum",
        "_bucket" => "_bucket",
        "_info" => "_info",
        "_created" => "_created",
        _ => "",
    }
}

pub(crate) fn le_value(le: &str) -> f64 {
    if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap_or(f64::NAN) }
}

/// Store keys: a series' family, sample and labels, length-prefixed.
mod key {
    use std::sync::Arc;

    use pyrometer_core::{FamilyMeta, Label, MetricType};

    fn put(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    pub(super) fn encode(
        meta: &FamilyMeta,
        suffix: &str,
        labels: &[(Arc<str>, Arc<str>)],
        extra: Option<&Label>,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        put(&mut out, meta.metric_type.as_str());
        put(&mut out, &meta.name);
        put(&mut out, &meta.help);
        put(&mut out, &meta.unit);
        put(&mut out, suffix);
        for (name, value) in labels {
            put(&mut out, name);
            put(&mut out, value);
        }
        if let Some(extra) = extra {
            put(&mut out, &extra.name);
            put(&mut out, &extra.value);
        }
        out
    }

    /// A decoded key.
    pub(crate) struct Decoded {
        pub(crate) metric_type: MetricType,
        pub(crate) name: String,
        pub(crate) help: String,
        pub(crate) unit: String,
        pub(crate) suffix: String,
        pub(crate) labels: Vec<(String, String)>,
    }

    pub(crate) fn decode(mut bytes: &[u8]) -> Option<Decoded> {
        let mut take = || -> Option<String> {
            let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
            let s = std::str::from_utf8(bytes.get(4..4 + len)?).ok()?.to_owned();
            bytes = &bytes[4 + len..];
            Some(s)
        };
        let metric_type = take()?.parse().ok()?;
        let (name, help, unit, suffix) = (take()?, take()?, take()?, take()?);
        let mut labels = Vec::new();
        while let Some(label) = take() {
            labels.push((label, take()?));
        }
        Some(Decoded { metric_type, name, help, unit, suffix, labels })
    }
}
