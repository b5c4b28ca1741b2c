// Package version holds Glimpse's release number, whose one source is the
// file VERSION beside this one: the CLI prints it (glimpse --version), the
// browser runtime reports it (runtimeInfo().version in glimpse.js), and the
// Makefile writes it into the npm package's package.json. A release edits
// that file and nothing else.
package version

import (
	_ "embed"
	"strings"
)

//go:embed VERSION
var file string

// Version is the release, a semantic version such as "0.1.0" (npm
// requires one).
var Version = strings.TrimSpace(file)
