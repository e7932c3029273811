//! Which comment syntax a stub uses, chosen from the stub file's name.
//!
//! Every line of a stub must be a comment (or, for JSON, part of one JSON object) in the
//! language of the file it replaces, so that a stub left in a tree never breaks a build.

/// The comment syntax of a stub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `# …` (Python, shell, Ruby, YAML, TOML, Makefile, …)
    Hash,
    /// `// …` (Rust, Go, Java, JavaScript, TypeScript, C++, …)
    Slash,
    /// `-- …` (SQL, Lua, Haskell, Ada)
    DashDash,
    /// `; …` (Lisp, Clojure, assembly, INI)
    Semicolon,
    /// `<!-- … -->` (HTML, XML, Markdown, SVG)
    Html,
    /// `/* … */` (C, CSS)
    CBlock,
    /// one JSON object with string values
    Json,
    /// plain text lines, for files without a comment syntax
    Plain,
}

impl Style {
    /// The style for a file named `path` (only the last component matters).
    pub fn for_path(path: &[u8]) -> Style {
        let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        match name.as_str() {
            "makefile" | "gnumakefile" | "dockerfile" | "containerfile" | "cmakelists.txt"
            | "gemfile" | "rakefile" | "procfile" | "vagrantfile" | "justfile" | "build"
            | "workspace" | ".gitignore" | ".gitattributes" | ".dockerignore" | ".editorconfig"
            | ".env" | "requirements.txt" | "codeowners" => return Style::Hash,
            _ => {}
        }
        let Some((_, ext)) = name.rsplit_once('.') else {
            return Style::Plain;
        };
        match ext {
            "py" | "pyi" | "pyw" | "sh" | "bash" | "zsh" | "fish" | "ksh" | "rb" | "pl" | "pm"
            | "r" | "yaml" | "yml" | "toml" | "cfg" | "conf" | "mk" | "cmake" | "ps1" | "psm1"
            | "tf" | "tfvars" | "hcl" | "nix" | "ex" | "exs" | "jl" | "nim" | "cr" | "coffee"
            | "tcl" | "properties" | "dockerfile" | "bzl" | "star" | "gitignore" | "awk"
            | "sed" | "mojo" => Style::Hash,
            "rs" | "go" | "java" | "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx"
            | "kt" | "kts" | "swift" | "scala" | "sc" | "cs" | "cpp" | "cc" | "cxx" | "hpp"
            | "hh" | "hxx" | "dart" | "proto" | "zig" | "groovy" | "gradle" | "v" | "sv"
            | "svh" | "fs" | "fsx" | "sol" | "d" | "scss" | "less" | "jsonc" | "json5" | "m"
            | "mm" | "glsl" | "hlsl" | "wgsl" => Style::Slash,
            "sql" | "lua" | "hs" | "lhs" | "elm" | "ada" | "adb" | "ads" | "vhd" | "vhdl"
            | "purs" => Style::DashDash,
            "lisp" | "lsp" | "cl" | "el" | "clj" | "cljs" | "cljc" | "edn" | "scm" | "ss"
            | "rkt" | "asm" | "s" | "ini" => Style::Semicolon,
            "html" | "htm" | "xhtml" | "xml" | "svg" | "md" | "markdown" | "vue" | "svelte"
            | "xsl" | "xslt" | "plist" | "csproj" | "fsproj" | "vbproj" | "props" | "targets"
            | "pom" => Style::Html,
            "c" | "h" | "css" | "y" | "l" => Style::CBlock,
            "json" => Style::Json,
            _ => Style::Plain,
        }
    }

    /// Text before and after the content of one line.
    pub fn delimiters(self) -> (&'static str, &'static str) {
        match self {
            Style::Hash => ("# ", ""),
            Style::Slash => ("// ", ""),
            Style::DashDash => ("-- ", ""),
            Style::Semicolon => ("; ", ""),
            Style::Html => ("<!-- ", " -->"),
            Style::CBlock => ("/* ", " */"),
            Style::Json | Style::Plain => ("", ""),
        }
    }

    /// A sequence that must not appear inside a line, because it would end the comment early.
    pub fn closer(self) -> Option<&'static str> {
        match self {
            Style::Html => Some("-->"),
            Style::CBlock => Some("*/"),
            _ => None,
        }
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Style::Hash => "`#` comments",
            Style::Slash => "`//` comments",
            Style::DashDash => "`--` comments",
            Style::Semicolon => "`;` comments",
            Style::Html => "`<!-- -->` comments",
            Style::CBlock => "`/* */` comments",
            Style::Json => "a JSON object",
            Style::Plain => "plain text",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_by_extension_and_name() {
        assert_eq!(Style::for_path(b"src/a.py"), Style::Hash);
        assert_eq!(Style::for_path(b"src/lib.RS"), Style::Slash);
        assert_eq!(Style::for_path(b"db/q.sql"), Style::DashDash);
        assert_eq!(Style::for_path(b"x.clj"), Style::Semicolon);
        assert_eq!(Style::for_path(b"README.md"), Style::Html);
        assert_eq!(Style::for_path(b"a/b.c"), Style::CBlock);
        assert_eq!(Style::for_path(b"package.json"), Style::Json);
        assert_eq!(Style::for_path(b"tools/Makefile"), Style::Hash);
        assert_eq!(Style::for_path(b"LICENSE"), Style::Plain);
        assert_eq!(Style::for_path(b"notes.txt"), Style::Plain);
        assert_eq!(Style::for_path(b"dir.d/x"), Style::Plain);
    }
}
