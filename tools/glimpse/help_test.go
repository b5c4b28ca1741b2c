package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/version"
)

// flagsOf returns the flags a command defines, from its own flag set.
func flagsOf(t *testing.T, c command) []*flag.Flag {
	t.Helper()
	var help *helpError
	if err := c.run([]string{"-h"}, io.Discard); !errors.As(err, &help) {
		t.Fatalf("%s -h: got %v, want the help", c.name, err)
	}
	var flags []*flag.Flag
	help.fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	return flags
}

// TestCommandHelp: `glimpse help C`, `glimpse C -h` and `glimpse C --help`
// (also after other arguments) print the same usage to stdout and exit 0,
// with one line per flag the command defines, in its dashed form, saying
// its default.
func TestCommandHelp(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			status, want, stderr := glimpse(t, "help", c.name)
			if status != 0 || stderr != "" {
				t.Fatalf("glimpse help %s: status %d, stderr %q", c.name, status, stderr)
			}
			for _, args := range [][]string{{c.name, "-h"}, {c.name, "--help"}, {c.name, "-help"}, {c.name, "x.png", "--help"}} {
				status, got, stderr := glimpse(t, args...)
				if status != 0 || stderr != "" || got != want {
					t.Errorf("glimpse %s: status %d, stderr %q, stdout differs from glimpse help %s:\n%s", strings.Join(args, " "), status, stderr, c.name, got)
				}
			}
			if !strings.HasPrefix(want, "usage: glimpse "+c.name+" ") {
				t.Errorf("the help starts %q", strings.SplitN(want, "\n", 2)[0])
			}
			lines := strings.Split(want, "\n")
			for _, f := range flagsOf(t, c) {
				form := "--" + f.Name
				if len(f.Name) == 1 {
					form = "-" + f.Name
				}
				found := false
				for _, l := range lines {
					if strings.HasPrefix(l, "  "+form+" ") {
						found = true
						if !strings.Contains(l, "(default") && !strings.Contains(l, "(required)") {
							t.Errorf("the line of %s says no default: %q", form, l)
						}
					}
				}
				if !found {
					t.Errorf("the help has no line for %s:\n%s", form, want)
				}
			}
		})
	}
}

// TestHelpContents checks a few lines against what the commands are
// documented to do (README), independently of their flag sets.
func TestHelpContents(t *testing.T) {
	for cmd, want := range map[string][]string{
		"predict": {`(?m)^  -m MODEL +model file .*\(required\)$`, `(?m)^  --top K +.*\(default: 5\)$`, `(?m)^  --json +.*\(default: false\)$`},
		"serve":   {`(?m)^  --addr HOST:PORT +.*\(default: 127\.0\.0\.1:8080\)$`},
		"convert": {`(?m)^  -o OUT\.glimpse +.*\(required\)$`, `(?m)^  --dtype f32\|f16\|int8 +.*\(default: f32\)$`, `(?m)^  --drop-head +`},
		"train":   {`(?m)^  --head \S+ +head preset`, `(?m)^  --seed N +.*\(default: 1\)$`, `(?m)^  --label-smoothing X +`, `(?m)^  --workers N +`},
		"bench":   {`(?m)^  --kernels best\|go\|avx2fma\|avx512 +.*\(default: best\)$`},
	} {
		_, out, _ := glimpse(t, "help", cmd)
		for _, re := range want {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("glimpse help %s has no line matching %s:\n%s", cmd, re, out)
			}
		}
	}
}

func TestTopLevelUsage(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		status, stdout, stderr := glimpse(t, args...)
		if status != 0 || stderr != "" || !strings.HasPrefix(stdout, "usage: glimpse COMMAND") || !strings.Contains(stdout, "glimpse help COMMAND") {
			t.Errorf("glimpse %s: status %d, stdout %q, stderr %q", args[0], status, stdout, stderr)
		}
	}
	if status, stdout, stderr := glimpse(t); status != 2 || stdout != "" || !strings.HasPrefix(stderr, "usage: glimpse COMMAND") {
		t.Errorf("glimpse alone: status %d, stdout %q, stderr %q; want the usage on stderr and status 2", status, stdout, stderr)
	}
	for _, args := range [][]string{{"help", "nope"}, {"nope"}, {"help", "train", "predict"}} {
		status, stdout, stderr := glimpse(t, args...)
		if status != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("glimpse %s: status %d, stdout %q, stderr %q", strings.Join(args, " "), status, stdout, stderr)
		}
	}
	for _, args := range [][]string{{"help", "nope"}, {"nope"}} {
		if _, _, stderr := glimpse(t, args...); !strings.Contains(stderr, `unknown command "nope"`) {
			t.Errorf("glimpse %s: %q does not name the command", strings.Join(args, " "), stderr)
		}
	}
}

// TestVersion: --version prints the version from core/version/VERSION
// (read here from the file itself) and the Go version.
func TestVersion(t *testing.T) {
	file, err := os.ReadFile("../../core/version/VERSION")
	if err != nil {
		t.Fatal(err)
	}
	want := "glimpse " + strings.TrimSpace(string(file)) + " (" + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	for _, flag := range []string{"--version", "-version"} {
		status, stdout, stderr := glimpse(t, flag)
		if status != 0 || stderr != "" || stdout != want {
			t.Errorf("glimpse %s: status %d, stdout %q, stderr %q; want %q", flag, status, stdout, stderr, want)
		}
	}
	if version.Version != strings.TrimSpace(string(file)) {
		t.Errorf("version.Version %q, VERSION holds %q", version.Version, file)
	}
}

// TestBadFlags: an unknown flag, a flag without its value and a value of
// the wrong type exit 2 with one stderr line naming the command and the
// flag as it was typed.
func TestBadFlags(t *testing.T) {
	for _, c := range commands() {
		for _, bad := range []string{"--no-such-flag", "-z", "--no-such-flag=3"} {
			status, stdout, stderr := glimpse(t, c.name, "x.png", bad)
			typed, _, _ := strings.Cut(bad, "=")
			if status != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 ||
				!strings.HasPrefix(stderr, "glimpse "+c.name+": unknown flag "+typed+" ") || !strings.Contains(stderr, "glimpse help "+c.name) {
				t.Errorf("glimpse %s x.png %s: status %d, stdout %q, stderr %q", c.name, bad, status, stdout, stderr)
			}
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--epochs", "ten"}, `glimpse train: --epochs "ten": want a whole number`},
		{[]string{"train", "-epochs=ten"}, `glimpse train: -epochs "ten": want a whole number`},
		{[]string{"train", "--lr", "fast"}, `glimpse train: --lr "fast": want a number`},
		{[]string{"predict", "--json=maybe"}, `glimpse predict: --json "maybe": want true or false`},
		{[]string{"predict", "photo.png", "-m"}, `glimpse predict: flag -m needs a value`},
	} {
		status, _, stderr := glimpse(t, tc.args...)
		if status != 2 || !strings.HasPrefix(stderr, tc.want) {
			t.Errorf("glimpse %s: status %d, stderr %q; want %q", strings.Join(tc.args, " "), status, stderr, tc.want)
		}
	}
}
