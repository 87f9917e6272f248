//! The text of a float, exactly as `prometheus_client` writes it.
//!
//! Two spellings matter. Sample values and the `le` and `quantile` labels use Go's style
//! (`floatToGoString`: `+Inf`, `NaN`, `1e+06`); timestamps in `OpenMetrics` use Python's `repr`
//! (`1700000000.5`, `1e+16`). Both start from the shortest decimal digits that round-trip, the nearer
//! of two as short (ties to even), which Ryu produces just as Python's `repr` does.

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

/// The shortest decimal digits that round-trip a finite, non-zero `value`, and its exponent:
/// `value = ±0.d1d2d3... × 10^(exponent + 1)`.
struct Decimal {
    negative: bool,
    digits: [u8; 24],
    len: usize,
    exponent: i32,
}

impl Decimal {
    fn of(value: f64) -> Self {
        // Ryu gives the shortest digits that round-trip and, between two as short, the nearer
        // (ties to even), as Python's `repr` does; `{:e}` may pick the other one.
        let mut buffer = ryu::Buffer::new();
        let text = buffer.format_finite(value.abs()).as_bytes();
        let split = text.iter().position(|b| *b == b'e').unwrap_or(text.len());
        let (mantissa, exponent) = (&text[..split], text.get(split + 1..).unwrap_or_default());
        let exponent: i32 = std::str::from_utf8(exponent).ok().and_then(|e| e.parse().ok()).unwrap_or(0);
        let int_len = mantissa.iter().position(|b| *b == b'.').unwrap_or(mantissa.len());
        let mut decimal = Self {
            negative: value.is_sign_negative(),
            digits: [0; 24],
            len: 0,
            exponent: exponent + i32::try_from(int_len).unwrap_or(0) - 1,
        };
        for b in mantissa.iter().filter(|b| b.is_ascii_digit()) {
            if decimal.len == 0 && *b == b'0' {
                // `0.00123`: each leading zero moves the first digit one place right.
                decimal.exponent -= 1;
                continue;
            }
            if let Some(slot) = decimal.digits.get_mut(decimal.len) {
                *slot = *b;
                decimal.len += 1;
            }
        }
        while decimal.len > 1 && decimal.digits[decimal.len - 1] == b'0' {
            decimal.len -= 1;
        }
        decimal
    }

    fn digits(&self) -> &str {
        // Only ASCII digits were kept.
        std::str::from_utf8(&self.digits[..self.len]).unwrap_or_default()
    }

    /// `d.ddde+XX` with at least two exponent digits: the spelling both Python (from 1e16) and
    /// Go (from 1e21, and `floatToGoString` from 1e6) use for large and small values.
    fn write_scientific(&self, out: &mut String) {
        let digits = self.digits();
        if self.negative {
            out.push('-');
        }
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(if self.exponent < 0 { "e-" } else { "e+" });
        let exponent = self.exponent.unsigned_abs();
        if exponent < 10 {
            out.push('0');
        }
        write_integer(out, u64::from(exponent));
    }

    /// Python's `repr` for exponents from -4 to 15: positional, with at least one fraction digit.
    fn write_positional(&self, out: &mut String) {
        let digits = self.digits();
        if self.negative {
            out.push('-');
        }
        if self.exponent < 0 {
            out.push_str("0.");
            for _ in 0..(-self.exponent - 1) {
                out.push('0');
            }
            out.push_str(digits);
            return;
        }
        let int_len = self.exponent as usize + 1;
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
}

fn write_python_repr_general(out: &mut String, value: f64) {
    let decimal = Decimal::of(value);
    if (-4..16).contains(&decimal.exponent) {
        decimal.write_positional(out);
    } else {
        decimal.write_scientific(out);
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
    if value >= 1e6 {
        // Timestamps such as `_created` land here: `1.7000000005e+09`.
        Decimal::of(value).write_scientific(out);
        return;
    }
    write_python_repr(out, value);
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
            // Two shortest spellings, equally near: the even one, as CPython's dtoa picks.
            (-854_616_395_955_028.2, "-854616395955028.2"),
            (-9_083_911_024_597.312, "-9083911024597.312"),
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
            (2_239_391_523_048_952.2, "2.2393915230489522e+15"),
            (1_764_625_388.123_456, "1.764625388123456e+09"),
        ];
        for (v, want) in cases {
            assert_eq!(go_float(*v), *want, "floatToGoString({v:?})");
        }
    }
}
