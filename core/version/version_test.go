package version

import (
	"regexp"
	"testing"
)

// TestVersionIsSemver: npm refuses a package.json whose version is not a
// semantic version (semver.org's grammar, without build metadata), and the
// Makefile copies VERSION there as it is.
func TestVersionIsSemver(t *testing.T) {
	semver := regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
	if !semver.MatchString(Version) {
		t.Errorf("VERSION holds %q, not a semantic version such as 1.2.3 or 1.2.3-rc.1", Version)
	}
	if file != Version+"\n" {
		t.Errorf("VERSION is %q: want the version and one newline, which make reads as it is", file)
	}
}
