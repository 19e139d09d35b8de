//! Error types.

use thiserror::Error;

/// A configuration problem. Every variant names the place in the config (field, comparison,
/// blocking rule, ...) so that a user can find and fix it.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ConfigError {
    /// The TOML text could not be parsed into the config structure.
    #[error("config is not valid TOML for a linkage config: {0}")]
    Toml(String),
    /// The config defines no fields.
    #[error("config defines no [[fields]]")]
    NoFields,
    /// The config defines no comparisons.
    #[error("config defines no [[comparisons]]")]
    NoComparisons,
    /// Two fields have the same name.
    #[error("field `{0}` is defined more than once")]
    DuplicateField(String),
    /// Two comparisons have the same name.
    #[error("comparison `{0}` is defined more than once")]
    DuplicateComparison(String),
    /// A field has no column for one side.
    #[error("field `{field}`: no column for the {side} side (set `column`, or `left_column` and `right_column`)")]
    MissingColumn {
        /// Field name.
        field: String,
        /// `left` or `right`.
        side: &'static str,
    },
    /// A name refers to a field that does not exist.
    #[error("{context}: unknown field `{field}` (known fields: {known})")]
    UnknownField {
        /// Where the reference was made, e.g. "comparison `name`".
        context: String,
        /// The unknown field name.
        field: String,
        /// Comma separated known field names.
        known: String,
    },
    /// A normaliser name could not be understood.
    #[error("field `{field}`: unknown normaliser `{normaliser}` ({hint})")]
    UnknownNormaliser {
        /// Field name.
        field: String,
        /// The offending normaliser text.
        normaliser: String,
        /// What is accepted.
        hint: String,
    },
    /// A comparison level could not be parsed or does not fit the field.
    #[error("comparison `{comparison}`, level {index} (`{level}`): {message}")]
    BadLevel {
        /// Comparison name.
        comparison: String,
        /// 1-based level number.
        index: usize,
        /// The level text.
        level: String,
        /// What is wrong.
        message: String,
    },
    /// A comparison is invalid as a whole.
    #[error("comparison `{comparison}`: {message}")]
    BadComparison {
        /// Comparison name.
        comparison: String,
        /// What is wrong.
        message: String,
    },
    /// A blocking key expression could not be parsed or does not fit the field.
    #[error("blocking rule `{rule}`, key `{key}`: {message}")]
    BadBlockingKey {
        /// Blocking rule name.
        rule: String,
        /// The key expression.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A field definition is invalid.
    #[error("field `{field}`: {message}")]
    BadField {
        /// Field name.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Some other setting is out of range.
    #[error("setting `{setting}`: {message}")]
    BadSetting {
        /// Setting path, e.g. `link.threshold`.
        setting: String,
        /// What is wrong.
        message: String,
    },
}

/// Any error of this crate.
#[derive(Debug, Error)]
pub enum LinkageError {
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// I/O failure (reading an input file, writing output).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// CSV syntax error.
    #[error("csv error: {0}")]
    Csv(#[from] csv::Error),
    /// A column named in the config is not in the CSV header.
    #[error("{}: column `{column}` (for {purpose}) not found in header [{header}]", input_name(.side))]
    MissingColumn {
        /// `left`, `right`, or empty for the one input of a dedupe.
        side: &'static str,
        /// The column name.
        column: String,
        /// What the column was needed for, e.g. "field `nik`".
        purpose: String,
        /// The header that was found.
        header: String,
    },
    /// The input has no header row.
    #[error("{} is empty (no header row)", input_name(.side))]
    EmptyInput {
        /// `left`, `right`, or empty for the one input of a dedupe.
        side: &'static str,
    },
    /// A value in the data is invalid for its field kind (e.g. a malformed Bloom filter).
    #[error("{}, row {row}, field `{field}`: {message}", input_name(.side))]
    BadValue {
        /// `left`, `right`, or empty for the one input of a dedupe.
        side: &'static str,
        /// 1-based data row number.
        row: usize,
        /// Field name.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Evaluation was requested but truth columns are not configured / present.
    #[error("evaluation needs truth ids: {0}")]
    NoTruth(String),
    /// A model does not fit the config it is used with.
    #[error("model does not fit the config: {0}")]
    ModelMismatch(String),
    /// Data too large for the compact in-memory layout.
    #[error("input too large: {0}")]
    TooLarge(String),
}

/// "left input", "right input", or "input" (the one input of a dedupe).
fn input_name(side: &str) -> String {
    if side.is_empty() {
        "input".to_string()
    } else {
        format!("{side} input")
    }
}

impl LinkageError {
    /// The same error about the one input of a dedupe: it says "input", not "left input".
    pub fn of_single_input(self) -> LinkageError {
        match self {
            LinkageError::MissingColumn {
                column,
                purpose,
                header,
                ..
            } => LinkageError::MissingColumn {
                side: "",
                column,
                purpose,
                header,
            },
            LinkageError::EmptyInput { .. } => LinkageError::EmptyInput { side: "" },
            LinkageError::BadValue {
                row,
                field,
                message,
                ..
            } => LinkageError::BadValue {
                side: "",
                row,
                field,
                message,
            },
            other => other,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = LinkageError> = std::result::Result<T, E>;
