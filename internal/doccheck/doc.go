// Package doccheck finds the references in a Go module's documentation that
// name something that does not exist: a doc link, an identifier of one of
// the module's packages, a file or directory, a Markdown anchor. [Check]
// returns all of them at once; `go run ./internal/doccheck/cmd/doccheck`
// prints them as file:line: reference: problem and exits 1, and `make
// check` runs it.
//
// It reads every Go file of the module (none under testdata, vendor or a
// directory whose name starts with "." or "_", nor in a nested module) with
// go/parser, and every *.md file of the repository outside those
// directories. Packages outside the module are read from the source that
// `go list -find` finds for them, so the check needs only the go command and
// the module cache. Build constraints are ignored: a symbol declared for one
// platform exists.
//
// # Doc links
//
// In every doc comment (of the package, a declaration, a struct field or an
// interface method), each doc link, in go/doc/comment's syntax (Name
// exported, the brackets next to a space or punctuation), must resolve:
//
//	[Name] [Name.Member] [pkg.Name] [pkg.Name.Member] [import/path.Name]
//
// pkg is what an import of the file, then of the package, binds; then the
// package itself; then a standard library package of one path element, as
// go doc resolves it. A pkg that none of these gives dangles, since go doc
// shows it as plain text; the message gives the import path to write when
// one module package has that name. Name must be a top-level declaration of
// the package and Member a method, field or interface method of type Name,
// promoted ones included (a type that embeds or is made from a type of
// another package accepts any member). A doc comment in a _test.go file may
// name what the package's test files declare.
//
// # Mentions
//
// A mention is pkg.Name or pkg.Name.Member where pkg is the name of one of
// the module's importable packages (not main, not made of test files only),
// not preceded by a letter, digit, "_", ".", "/", "-", "$" or "@", and Name
// is exported. Mentions are read in every comment of the module's Go files,
// in the string literals of those that are not tests (an error message
// that advises an option names it), and in Markdown prose, code spans and
// fenced blocks that are not Go. In a Go file that imports a package by
// that name, pkg is that package; elsewhere it may be any module package of
// that name and, in a Go file, the file's own package or one that its
// package imports by that name. Name must exist; Member is checked only
// when Name is a type.
//
// A fenced Go block is parsed as a file, as declarations or as statements.
// Its selectors X.Name are checked when X is not declared anywhere in the
// block (a variable named like a package is skipped): against the package
// the block imports as X, whatever it is, or else against the module's
// packages named X. A block that parses as none of the three is read as
// prose.
//
// Markdown text between ~~ and ~~ on one line is not checked: struck-through
// names are gone on purpose, as in the "was" column of a table of renamed
// identifiers.
//
// # Paths
//
// A word of a doc comment (trimmed of quotes, brackets and trailing
// punctuation) or the whole of a Markdown code span is a path when it is
// made of letters, digits and "._-/" only, holds a "/" but no "//", and does
// not start with "/" or with a host name (a first element with a dot
// inside, as in github.com/x). "./" before it and "/..." after it are
// dropped. It is checked when its first element exists next to the file or
// at the repository root, or, when that element does not start with "."
// (.github/ and .gitlab/ name where the reader's own repository keeps its CI
// files), when it ends in .md, .go, .sh, .yml, .yaml, .json, .toml, .mod or
// .sum, or, in a code span, in "/". A checked path must exist next to the
// file or at the root. So a guide under a docs directory that is gone,
// examples/ci and scripts/install.sh are checked, and linux/amd64 and i/n
// are not.
//
// A Markdown link [text](target) or reference definition [label]: target
// with no URL scheme must name a file or directory relative to the file's
// directory (to the root when it starts with "/"), and a #anchor into a
// Markdown file must be the GitHub anchor of one of its headings.
package doccheck
