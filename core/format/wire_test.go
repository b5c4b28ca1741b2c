package format

import (
	"reflect"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// TestIRJSONNamesMatchTheFile holds the JSON names of ir.Node and ir.Attrs
// (what inspect --json and other tools print) to the key names the file's
// glimpse.graph uses (wireNode, wireAttrs, FORMAT.md section 5): the same
// fields under the same names, so one spelling of each attribute is all
// a reader of either ever sees.
func TestIRJSONNamesMatchTheFile(t *testing.T) {
	for _, pair := range []struct{ ir, wire reflect.Type }{
		{reflect.TypeFor[ir.Attrs](), reflect.TypeFor[wireAttrs]()},
		{reflect.TypeFor[ir.Node](), reflect.TypeFor[wireNode]()},
	} {
		wire := map[string]string{}
		for f := range pair.wire.Fields() {
			wire[f.Name] = jsonName(f)
		}
		for f := range pair.ir.Fields() {
			name, ok := wire[f.Name]
			if !ok {
				t.Errorf("%s.%s has no counterpart in the file's %s", pair.ir, f.Name, pair.wire)
				continue
			}
			if got := jsonName(f); got != name {
				t.Errorf("%s.%s is %q in JSON, the file calls it %q", pair.ir, f.Name, got, name)
			}
			delete(wire, f.Name)
		}
		for name := range wire {
			t.Errorf("the file's %s.%s has no field in %s", pair.wire, name, pair.ir)
		}
	}
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}
