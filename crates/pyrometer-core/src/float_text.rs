//! The text of a float, exactly as `prometheus_client` writes it.
//!
//! Two spellings matter. Sample values and the `le` and `quantile` labels use Go's style
//! (`floatToGoString`: `+Inf`, `NaN`, `1e+06`); timestamps in `OpenMetrics` use Python's `repr`
//! (`1700000000.5`, `1e+16`). Both start from the shortest decimal digits that round-trip, which
//! Rust's `{:e}` produces just as Python's `repr` does.

use std::fmt::Write;

/// Appends `value` as Python's `repr(float)` spells it: `1.0`, `0.0001`, `1e-05`, `1e+16`.
pub fn write_python_repr(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("nan");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "inf" } else { "-inf" });
    } else if value.fract() == 0.0 && value.abs() < 1e16 {
        // Integral values below 1e16 print as integers with `.0`: the common case, kept fast.
        if value.is_sign_negative() {
            out.push('-');
        }
        write_integer(out, value.abs() as u64);
        out.push_str(".0");
    } else {
        write_python_repr_general(out, value);
    }
}

/// The decimal digits of `n` in a buffer, and where they start in it.
fn integer_digits(mut n: u64) -> ([u8; 20], usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    (digits, i)
}

/// Appends the decimal digits of `n`; faster than `fmt` for the integers most samples are.
fn write_integer(out: &mut String, n: u64) {
    let (digits, start) = integer_digits(n);
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&digits[start..]).unwrap_or_default());
}

/// A positive integer below 1e16 as `floatToGoString` writes it: `42.0`, or from seven digits
/// on `1.234567e+06`.
fn write_go_integer(out: &mut String, n: u64) {
    let (digits, start) = integer_digits(n);
    let digits = std::str::from_utf8(&digits[start..]).unwrap_or_default();
    if digits.len() <= 6 {
        out.push_str(digits);
        out.push_str(".0");
        return;
    }
    out.push_str(&digits[..1]);
    let fraction = digits[1..].trim_end_matches('0');
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out.push_str("e+");
    let exponent = digits.len() - 1;
    if exponent < 10 {
        out.push('0');
    }
    write_integer(out, exponent as u64);
}

/// A fixed buffer for one float's `{:e}` text: `-1.7976931348623157e308` is the longest.
struct SciBuf {
    bytes: [u8; 32],
    len: usize,
}

impl std::fmt::Write for SciBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn write_python_repr_general(out: &mut String, value: f64) {
    // `{:e}` gives the shortest round-trip digits as `d.ddde[-]x`; formatted on the stack, as
    // `_created` samples send every scrape through here.
    let mut sci = SciBuf { bytes: [0; 32], len: 0 };
    let _ = write!(sci, "{value:e}");
    let sci = std::str::from_utf8(&sci.bytes[..sci.len]).unwrap_or_default();
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let mut digit_bytes = [0u8; 24];
    let mut count = 0;
    for b in mantissa.bytes().filter(u8::is_ascii_digit) {
        if let Some(slot) = digit_bytes.get_mut(count) {
            *slot = b;
            count += 1;
        }
    }
    let digits = std::str::from_utf8(&digit_bytes[..count]).unwrap_or_default();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exp.abs());
    }
}

/// Appends `value` as `prometheus_client`'s `floatToGoString` spells it: `+Inf`, `-Inf`, `NaN`,
/// Python's `repr` otherwise, except that positive values with seven or more integer digits
/// switch to an exponent as Go does (`1e+06`, `1.234567e+06`).
pub fn write_go_float(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if value > 0.0 && value.fract() == 0.0 && value < 1e16 {
        // Integers, the usual sample value: Go's style straight from the digits.
        write_go_integer(out, value as u64);
        return;
    }
    let start = out.len();
    write_python_repr(out, value);
    if value <= 0.0 {
        return;
    }
    let Some(dot) = out[start..].find('.') else { return };
    if dot <= 6 {
        return;
    }
    // `d.ddddddd` from the digits on both sides of the dot, trailing zeros and dot stripped.
    let repr = out.split_off(start);
    let mut mantissa = String::with_capacity(repr.len() + 1);
    mantissa.push_str(&repr[..1]);
    mantissa.push('.');
    mantissa.push_str(&repr[1..dot]);
    mantissa.push_str(&repr[dot + 1..]);
    let trimmed = mantissa.trim_end_matches(['0', '.']);
    let _ = write!(out, "{trimmed}e+{:02}", dot - 1);
}

/// `value` as `floatToGoString` spells it, in a new string.
#[must_use]
pub fn go_float(value: f64) -> String {
    let mut s = String::new();
    write_go_float(&mut s, value);
    s
}

/// `value` as Python's `repr` spells it, in a new string.
#[must_use]
pub fn python_repr(value: f64) -> String {
    let mut s = String::new();
    write_python_repr(&mut s, value);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_repr_matches_cpython() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-2.0, "-2.0"),
            (0.5, "0.5"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123.456, "123.456"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1_234_567_890_123_456.7, "1234567890123456.8"),
            (1e300, "1e+300"),
            (5e-324, "5e-324"),
            (1_700_000_000.123, "1700000000.123"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (-1.5e-5, "-1.5e-05"),
        ];
        for (v, want) in cases {
            assert_eq!(python_repr(*v), *want, "repr({v:?})");
        }
    }

    #[test]
    fn go_float_matches_float_to_go_string() {
        let cases: &[(f64, &str)] = &[
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (0.005, "0.005"),
            (1.0, "1.0"),
            (999_999.0, "999999.0"),
            (1e6, "1e+06"),
            (1_234_567.0, "1.234567e+06"),
            (1_500_000.0, "1.5e+06"),
            (1e7, "1e+07"),
            (12_345_678.9, "1.23456789e+07"),
            (1e15, "1e+15"),
            (9_999_999_999_999_998.0, "9.999999999999998e+15"),
            (1_000_001.0, "1.000001e+06"),
            (120_000_000.0, "1.2e+08"),
            (1e16, "1e+16"),
            (-1e6, "-1000000.0"),
            (0.00001, "1e-05"),
        ];
        for (v, want) in cases {
            assert_eq!(go_float(*v), *want, "floatToGoString({v:?})");
        }
    }
}
