//! Writes random metric families in both text formats, with the values they hold, so that
//! another implementation's parser can be checked against them (`tests/compat/test_random_crosscheck.py`).
//!
//! Usage: `random_exposition DIR SEED` writes `DIR/exposition.txt`, `DIR/exposition.om` and
//! `DIR/expected.tsv` (one sample a line: name, then hex UTF-8 `name=value` labels joined by `,`,
//! then the value's bits in hex).

use std::fmt::Write as _;
use std::path::PathBuf;

use pyrometer_core::{Buckets, Counter, Family, Gauge, Histogram, Metadata, Registry};
use pyrometer_expo::{Escaping, encode_openmetrics, encode_text};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Label text with the characters that need escaping, and some beyond ASCII.
    fn text(&mut self) -> String {
        const POOL: &[char] =
            &['a', 'Z', '0', ' ', '\\', '"', '\n', '{', '}', ',', '=', '#', 'é', '✓', '日', '😀', '\t'];
        (0..self.below(8)).map(|_| POOL[self.below(POOL.len())]).collect()
    }

    /// Values across the whole range: specials, subnormals, integers, fractions, huge ones.
    fn value(&mut self) -> f64 {
        match self.below(8) {
            0 => [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 5e-324, f64::MAX][self.below(6)],
            1 => self.below(10_000_000) as f64,
            2 => f64::from_bits(self.next()),
            _ => {
                (self.next() as f64 / u64::MAX as f64 - 0.5)
                    * 10f64.powi(i32::try_from(self.below(40)).unwrap_or(0) - 20)
            }
        }
    }
}

fn hex(s: &str) -> String {
    s.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: random_exposition DIR SEED")?);
    let seed: u64 = args.next().ok_or("usage: random_exposition DIR SEED")?.parse()?;
    let mut rng = Rng(seed | 1);

    let registry = Registry::new();
    registry.set_created_enabled(false);
    for f in 0..20 {
        let meta = || Metadata::new(format!("family_{f}"), rng_help(f)).label_names(["a", "b"]);
        match f % 3 {
            0 => {
                let g = Family::<Gauge>::new(meta())?;
                registry.register(g.clone())?;
                for _ in 0..5 {
                    g.labels(&[&rng.text(), &rng.text()])?.set(rng.value());
                }
            }
            1 => {
                let c = Family::<Counter>::new(meta())?;
                registry.register(c.clone())?;
                for _ in 0..5 {
                    let v = rng.value();
                    c.labels(&[&rng.text(), &rng.text()])?.inc_by(if v.is_nan() { 1.0 } else { v.abs() });
                }
            }
            _ => {
                let h = Family::<Histogram>::with_options(meta(), Buckets::exponential(0.001, 10.0, 5)?)?;
                registry.register(h.clone())?;
                for _ in 0..3 {
                    let child = h.labels(&[&rng.text(), &rng.text()])?;
                    for _ in 0..rng.below(10) {
                        child.observe((rng.next() % 100_000) as f64 / 1000.0);
                    }
                }
            }
        }
    }

    let families = registry.collect().expect("collects");
    let mut text = String::new();
    encode_text(&mut text, &families, Escaping::Underscores);
    let mut om = String::new();
    encode_openmetrics(&mut om, &families, Escaping::Underscores)?;
    let mut expected = String::new();
    for family in &families {
        for sample in &family.samples {
            let labels: Vec<String> =
                sample.all_labels().iter().map(|l| format!("{}={}", hex(&l.name), hex(&l.value))).collect();
            let _ = writeln!(
                expected,
                "{}\t{}\t{:016x}",
                sample.name.full(&family.name),
                labels.join(","),
                sample.value.to_bits()
            );
        }
    }
    std::fs::write(dir.join("exposition.txt"), text)?;
    std::fs::write(dir.join("exposition.om"), om)?;
    std::fs::write(dir.join("expected.tsv"), expected)?;
    Ok(())
}

fn rng_help(f: usize) -> String {
    format!("Family {f} with \\ and\nnewline.")
}
