package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// helpError is parse's answer to -h, -help or --help: run prints the
// command's usage and flags (printHelp) to stdout and exits 0. It carries
// the command's flag set, so the help is written from the flags the
// command really defines and cannot drift from them.
type helpError struct{ fs *flag.FlagSet }

func (*helpError) Error() string { return "help requested" }

// flagError is a command line the flag package refused: an unknown flag,
// a missing or bad value. run prints it with the command's name.
type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

// dashed spells a flag as the help does: -m for one letter, --head for
// more (the flag package takes either number of dashes for both).
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagMessage rewrites the flag package's error for people: the flag as
// the user typed it (found in args) or in its dashed form, and what a bad
// value should have been.
func flagMessage(msg string, args []string, fs *flag.FlagSet) string {
	typed := func(name string) string {
		for _, a := range args {
			if a == "--" {
				break
			}
			bare, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if strings.HasPrefix(a, "-") && bare == name {
				before, _, _ := strings.Cut(a, "=")
				return before
			}
		}
		return dashed(name)
	}
	for _, p := range []struct{ prefix, format string }{
		{"flag provided but not defined: -", "unknown flag %s"},
		{"flag needs an argument: -", "flag %s needs a value"},
	} {
		if name, ok := strings.CutPrefix(msg, p.prefix); ok {
			return fmt.Sprintf(p.format, typed(name))
		}
	}
	// invalid value "x" for flag -epochs: parse error
	// invalid boolean value "x" for -augment: parse error
	for _, p := range []string{" for flag -", " for -"} {
		if head, rest, ok := strings.Cut(msg, p); ok && strings.HasPrefix(msg, "invalid ") {
			name, reason, _ := strings.Cut(rest, ": ")
			value := strings.TrimPrefix(strings.TrimPrefix(head, "invalid boolean value "), "invalid value ")
			if f := fs.Lookup(name); f != nil {
				switch kind, _ := flag.UnquoteUsage(f); kind {
				case "int", "uint":
					reason = "want a whole number"
				case "float":
					reason = "want a number"
				case "":
					reason = "want true or false"
				}
			}
			return fmt.Sprintf("%s %s: %s", typed(name), value, reason)
		}
	}
	return msg
}

// printHelp writes a command's usage line and one line per flag: its
// dashed name, what it takes, what it does and its default.
func printHelp(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: glimpse %s\n", c.usage)
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	if len(flags) == 0 {
		return
	}
	// The flags in the order the usage line gives them, then the rest
	// by name.
	words := strings.Fields(c.usage)
	position := func(f *flag.Flag) int {
		for i, word := range words {
			if strings.Trim(word, "[]") == dashed(f.Name) {
				return i
			}
		}
		return len(words)
	}
	slices.SortStableFunc(flags, func(a, b *flag.Flag) int { return position(a) - position(b) })

	type row struct{ left, right string }
	rows := make([]row, len(flags))
	width := 0
	for i, f := range flags {
		left := "  " + dashed(f.Name)
		if arg := argName(f, words); arg != "" {
			left += " " + arg
		}
		rows[i] = row{left, f.Usage + defaultNote(f, words)}
		width = max(width, len(left))
	}
	fmt.Fprintln(w, "\nflags:")
	for _, r := range rows {
		fmt.Fprintf(w, "%-*s  %s\n", width, r.left, r.right)
	}
}

// argName is what a flag takes: the word after it in the usage line
// (`--head linear|tm|strong`), or a name for its type; none for a switch.
func argName(f *flag.Flag, usageWords []string) string {
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return ""
	}
	for i, word := range usageWords {
		if strings.TrimLeft(word, "[") == dashed(f.Name) && i+1 < len(usageWords) {
			if next := strings.Trim(usageWords[i+1], "[]"); next != "" && !strings.HasPrefix(next, "-") {
				return next
			}
		}
	}
	switch kind, _ := flag.UnquoteUsage(f); kind {
	case "int", "uint":
		return "N"
	case "float":
		return "X"
	case "":
		return ""
	default:
		return strings.ToUpper(kind)
	}
}

// defaultNote says a flag's default, unless its usage already does: the
// value, "none" for an empty string, and "required" for a flag the usage
// line gives outside brackets.
func defaultNote(f *flag.Flag, usageWords []string) string {
	if strings.Contains(f.Usage, "(default") {
		return ""
	}
	if f.DefValue == "" {
		depth := 0
		for _, word := range usageWords {
			depth += strings.Count(word, "[")
			if depth == 0 && word == dashed(f.Name) {
				return " (required)"
			}
			depth -= strings.Count(word, "]")
		}
		return " (default: none)"
	}
	return fmt.Sprintf(" (default: %s)", f.DefValue)
}
