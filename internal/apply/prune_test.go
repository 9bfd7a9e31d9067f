package apply

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/spec"
)

func TestCheckDeletes(t *testing.T) {
	three := []Ref{ref(spec.KindRole, "a"), ref(spec.KindRole, "b"), ref(spec.KindUser, "c")}
	tests := []struct {
		name             string
		deletes          []Ref
		desired          int
		max, allow       int
		wantErr, wantHnt string
		wantN            int
	}{
		{name: "three owned undeclared, maxDeletes 2", deletes: three, desired: 5, max: 2,
			wantErr: "would delete 3 objects, more than maxDeletes (2)", wantHnt: "--allow-deletes 3"},
		{name: "allowed by --allow-deletes", deletes: three, desired: 5, max: 2, allow: 3, wantN: 3},
		{name: "--allow-deletes too small", deletes: three, desired: 5, max: 2, allow: 2,
			wantErr: "would delete 3 objects, more than maxDeletes (2)"},
		{name: "--allow-deletes below the count", deletes: three, desired: 5, max: 1, allow: 2,
			wantErr: "more than --allow-deletes (2)", wantHnt: "--allow-deletes 3"},
		{name: "within maxDeletes", deletes: three, desired: 5, max: 3, wantN: 3},
		{name: "empty desired state", deletes: three, desired: 0, max: 10, allow: 10,
			wantErr: "refusing to delete 3 objects: the desired state declares no objects", wantHnt: "an empty desired state never means delete-all"},
		{name: "empty desired state, nothing to delete", desired: 0, max: 10},
		{name: "protected ones are dropped and not counted",
			deletes: append([]Ref{ref(spec.KindUser, "admin"), ref(spec.KindThrottlingPolicy, "Gold")}, three[:2]...), desired: 5, max: 2, wantN: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckDeletes(tt.deletes, tt.desired, tt.max, tt.allow)
			if tt.wantErr == "" {
				if err != nil || len(got) != tt.wantN || slices.ContainsFunc(got, Protected) {
					t.Fatalf("got %v, %v; want %d deletes", got, err, tt.wantN)
				}
				return
			}
			var ae *Error
			if !errors.As(err, &ae) || !strings.Contains(ae.Message, tt.wantErr) || !strings.Contains(ae.Hint, tt.wantHnt) {
				t.Fatalf("err = %#v, want %q with hint %q", err, tt.wantErr, tt.wantHnt)
			}
			if got != nil {
				t.Errorf("a refusal returned deletes %v", got)
			}
		})
	}
}
