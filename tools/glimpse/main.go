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
//
// Every failure exits non-zero with one plain line on stderr.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
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
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) (status int) {
	defer func() {
		// A bug must still end in one plain line, not a trace.
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "glimpse: internal error: %v\n", r)
			status = 2
		}
	}()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(args[1:], stdout)
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			if err != nil {
				fmt.Fprintf(stderr, "glimpse %s: %s\n", c.name, oneLine(err.Error()))
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "glimpse: unknown command %q (commands: convert, inspect, predict, train, eval, bench, serve)\n", args[0])
	return 2
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// parse parses flags that may stand before, between or after the
// positional arguments (`glimpse inspect mobilenet_v2 --json`), which the
// standard flag package alone does not allow.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%v", err)
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
