//! OpenMetrics 1.0 parser.
