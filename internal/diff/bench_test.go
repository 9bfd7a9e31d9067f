package diff

import (
	"fmt"
	"testing"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// An IS of the simulator's size: 20,000 users on both sides.
func BenchmarkCompute20kUsers(b *testing.B) {
	var desired, live []spec.Resource
	for i := range 20000 {
		name := fmt.Sprintf("user%05d", i)
		desired = append(desired, user(name, nil))
		live = append(live, user("PRIMARY/"+name, func(s *spec.UserSpec) { s.UserName = "PRIMARY/" + name }))
	}
	d, l := state(desired...), state(live...)
	for b.Loop() {
		if p := Compute(d, l, Options{}); p.HasChanges() {
			b.Fatal("20,000 equal users planned changes")
		}
	}
}
