// Command glimpse converts pretrained CNN weights into Glimpse model files,
// inspects architectures and files, classifies images and serves the app.
//
//	glimpse convert SRC... -o OUT.glimpse [--dtype f32|f16|int8] [--labels FILE] [--drop-head] ...
//	glimpse inspect FILE.glimpse|ARCH [--width W] [--input N] [--json]
//	glimpse predict -m MODEL [--top K] [--json] IMAGE...
//	glimpse train -m MODEL -d DIR -o OUT.glimpse [--head linear|tm|strong] [--epochs N] [--augment] ...
//	glimpse eval -m MODEL -d DIR [--json]
//	glimpse bench -m MODEL
//	glimpse serve [DIR] [--addr HOST:PORT]
//	glimpse help COMMAND
//	glimpse --version
//
// `glimpse help COMMAND`, `glimpse COMMAND -h` and `glimpse COMMAND --help`
// print the command's usage and every flag with its default to stdout.
// Every failure exits non-zero with one plain line on stderr.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/glimpse-ml/glimpse/core/version"
)

// command is one subcommand: it parses its own flags and does its work,
// writing results to stdout.
type command struct {
	name, usage string
	run         func(args []string, stdout io.Writer) error
}

func commands() []command {
	return []command{
		{"convert", "convert SRC... -o OUT.glimpse [--arch NAME] [--width W] [--dtype f32|f16|int8] [--labels FILE] [--preprocess SPEC] [--drop-head]", runConvert},
		{"inspect", "inspect FILE.glimpse|ARCH [--width W] [--input N] [--json]", runInspect},
		{"predict", "predict -m MODEL [--top K] [--json] IMAGE...", runPredict},
		{"train", trainUsage, runTrain},
		{"eval", evalUsage, runEval},
		{"bench", "bench -m MODEL [--runs N] [--kernels best|go|avx2fma|avx512]", runBench},
		{"serve", "serve [DIR] [--addr HOST:PORT]", runServe},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: glimpse COMMAND [ARGS]")
	for _, c := range commands() {
		fmt.Fprintln(w, "  glimpse "+c.usage)
	}
	fmt.Fprintln(w, "  glimpse help COMMAND      (or glimpse COMMAND --help) the command's flags and their defaults")
	fmt.Fprintln(w, "  glimpse --version")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status (0, 1 for
// a failure, 2 for a command line that names no command or a bad flag).
func run(args []string, stdout, stderr io.Writer) (status int) {
	defer func() {
		// A bug must still end in one plain line, not a trace.
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "glimpse: internal error: %v\n", r)
			status = 2
		}
	}()
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return 0
	case "-version", "--version":
		fmt.Fprintf(stdout, "glimpse %s (%s %s/%s)\n", version.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case "help":
		switch len(args) {
		case 1:
			usage(stdout)
			return 0
		case 2:
			// The command's own -h: its flag set prints itself.
			args = []string{args[1], "-h"}
		default:
			fmt.Fprintf(stderr, "glimpse help: want one COMMAND, got %d arguments\n", len(args)-1)
			return 2
		}
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(args[1:], stdout)
			var help *helpError
			var bad *flagError
			switch {
			case errors.As(err, &help):
				printHelp(stdout, c, help.fs)
				return 0
			case errors.As(err, &bad):
				fmt.Fprintf(stderr, "glimpse %s: %s (glimpse help %s lists its flags)\n", c.name, oneLine(bad.msg), c.name)
				return 2
			case err != nil:
				fmt.Fprintf(stderr, "glimpse %s: %s\n", c.name, oneLine(err.Error()))
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "glimpse: unknown command %q (commands: %s; glimpse help lists them)\n", args[0], strings.Join(commandNames(), ", "))
	return 2
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// parse parses flags that may stand before, between or after the
// positional arguments (`glimpse inspect mobilenet_v2 --json`), which the
// standard flag package alone does not allow. -h, -help and --help give a
// *helpError, which run answers with the command's usage; a flag the
// command lacks, or a bad value, gives a *flagError naming the flag as the
// user spelled it.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	all := args
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &helpError{fs}
			}
			return nil, &flagError{flagMessage(err.Error(), all, fs)}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
