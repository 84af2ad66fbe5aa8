//! Diagnostics: problems found in definition files, with their location.
//!
//! Loading and validation never stop at the first problem: they collect
//! [`Diagnostic`]s, and the shell renders them all (see
//! `crate::render::diagnostics`).

use std::fmt;
use std::ops::Range;

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The directory cannot be planned or applied.
    Error,
    /// Allowed, but probably not what was meant (or unsafe, like a secret in git).
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem in a definition directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Path as displayed, relative to the definition directory, `/`-separated
    /// (`demo/api.yaml`, `zadig-sync.yaml`); empty for the directory itself.
    pub file: String,
    /// 1-based line; 0 when unknown.
    pub line: usize,
    /// 1-based column, in characters; 0 when unknown.
    pub column: usize,
    /// Byte range in the file, for the source snippet.
    pub span: Option<Range<usize>>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// A stable, machine-readable kind of problem, for `-o json`.
    pub code: Code,
}

/// A stable, machine-readable kind of problem, for `-o json` (the README
/// lists them). One byte: diagnostics are many and travel in `Result`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// An error in a definition file found by validation (the default).
    InvalidDefinition,
    /// A warning about a definition file (the default).
    DefinitionWarning,
    /// An error in `zadig-sync.yaml`.
    InvalidConfig,
    /// A warning about `zadig-sync.yaml`.
    ConfigWarning,
    /// The YAML does not parse.
    YamlSyntax,
    /// A field of the wrong type, unknown or missing.
    Schema,
    /// A build name defined more than once.
    DefinedTwice,
    /// A file that is not UTF-8.
    NotUtf8,
    /// No `zadig-sync.yaml`.
    NoConfig,
    /// No definition files, or no builds in them.
    NoDefinitions,
    /// A file that defines no build.
    EmptyFile,
}

impl Code {
    /// The code as written in JSON: `yaml-syntax`, `schema`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidDefinition => "invalid-definition",
            Code::DefinitionWarning => "definition-warning",
            Code::InvalidConfig => "invalid-config",
            Code::ConfigWarning => "config-warning",
            Code::YamlSyntax => "yaml-syntax",
            Code::Schema => "schema",
            Code::DefinedTwice => "defined-twice",
            Code::NotUtf8 => "not-utf8",
            Code::NoConfig => "no-config",
            Code::NoDefinitions => "no-definitions",
            Code::EmptyFile => "empty-file",
        }
    }

    /// The default code of a severity.
    pub fn default_for(severity: Severity) -> Code {
        match severity {
            Severity::Error => Code::InvalidDefinition,
            Severity::Warning => Code::DefinitionWarning,
        }
    }
}

impl Diagnostic {
    /// An error with no location yet.
    pub fn error(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, file, message)
    }

    /// A warning with no location yet.
    pub fn warning(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, file, message)
    }

    fn new(severity: Severity, file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            file: file.into(),
            line: 0,
            column: 0,
            span: None,
            message: message.into(),
            hint: None,
            code: Code::default_for(severity),
        }
    }

    /// Sets the code.
    pub fn with_code(mut self, code: Code) -> Self {
        self.code = code;
        self
    }

    /// Sets the hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets line, column and span.
    pub fn at(mut self, line: usize, column: usize, span: Option<Range<usize>>) -> Self {
        self.line = line;
        self.column = column;
        self.span = span;
        self
    }

    /// True for an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column`, or less when parts are unknown.
    pub fn location(&self) -> String {
        match (self.file.is_empty(), self.line) {
            (true, _) => String::new(),
            (false, 0) => self.file.clone(),
            (false, line) => format!("{}:{}:{}", self.file, line, self.column),
        }
    }
}

/// One line, compiler style: `demo/api.yaml:3:7: error: unknown field`.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = self.location();
        if !location.is_empty() {
            write!(f, "{location}: ")?;
        }
        write!(f, "{}: {}", self.severity, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (help: {hint})")?;
        }
        Ok(())
    }
}

/// Sorts diagnostics for display: by file, then position, errors before
/// warnings at the same place. Stable, so equal keys keep discovery order.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.severity).cmp(&(&b.file, b.line, b.column, b.severity))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_compiler_style_line() {
        let d = Diagnostic::error("demo/api.yaml", "unknown field `lables`")
            .at(3, 7, Some(20..26))
            .with_hint("did you mean `labels`?");
        assert_eq!(
            d.to_string(),
            "demo/api.yaml:3:7: error: unknown field `lables` (help: did you mean `labels`?)"
        );
        let d = Diagnostic::warning("", "no definition files");
        assert_eq!(d.to_string(), "warning: no definition files");
    }

    #[test]
    fn sort_orders_by_file_then_position() {
        let mut v = vec![
            Diagnostic::warning("b.yaml", "w").at(1, 1, None),
            Diagnostic::error("a.yaml", "late").at(9, 1, None),
            Diagnostic::warning("a.yaml", "w").at(2, 3, None),
            Diagnostic::error("a.yaml", "e").at(2, 3, None),
        ];
        sort(&mut v);
        let got: Vec<_> = v.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            got,
            [
                "a.yaml:2:3: error: e",
                "a.yaml:2:3: warning: w",
                "a.yaml:9:1: error: late",
                "b.yaml:1:1: warning: w"
            ]
        );
    }
}
