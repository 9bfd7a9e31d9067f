package apply

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/spec"
)

func TestInventoryRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), StateDirName)
	inv, err := LoadInventory(dir, "dev")
	if err != nil {
		t.Fatalf("a missing inventory is an empty one: %v", err)
	}
	if len(inv.Objects()) != 0 {
		t.Fatal("new inventory is not empty")
	}
	sub, app, km := ref(spec.KindSubscription, "s"), ref(spec.KindApplication, "a"), ref(spec.KindKeyManager, "k")
	inv.Add(sub, "")
	inv.Add(app, "id-1")
	inv.Add(km, "")
	inv.Add(app, "id-2") // a replace: new id, same ownership
	inv.Remove(km)
	inv.Remove(ref(spec.KindRole, "never-owned"))
	if err := inv.Save(); err != nil {
		t.Fatal(err)
	}

	again, err := LoadInventory(dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	objs := again.Objects()
	var got []Ref
	for _, o := range objs {
		got = append(got, o.Ref())
		if o.CreatedAt.IsZero() {
			t.Errorf("%s has no createdAt", o.Ref())
		}
	}
	if want := []Ref{app, sub}; !slices.Equal(got, want) {
		t.Errorf("objects %v, want %v (apply order)", got, want)
	}
	if objs[0].ID != "id-2" {
		t.Errorf("id %q, want id-2", objs[0].ID)
	}
	if !again.Owned(sub) || again.Owned(km) {
		t.Error("Owned disagrees with what was saved")
	}
	// Written atomically: no temporary file is left beside it; the state
	// dir keeps itself out of git.
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{".gitignore", InventoryFile}; !slices.Equal(names, want) {
		t.Errorf("state dir holds %v, want %v", names, want)
	}
}

func TestInventoryOfAnotherEnvironment(t *testing.T) {
	dir := t.TempDir()
	inv, _ := LoadInventory(dir, "staging")
	inv.Add(ref(spec.KindRole, "r"), "")
	if err := inv.Save(); err != nil {
		t.Fatal(err)
	}
	_, err := LoadInventory(dir, "prod")
	var ae *Error
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, `belongs to environment "staging", not "prod"`) {
		t.Errorf("err = %v", err)
	}
}

func TestInventoryUnreadable(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, InventoryFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ae *Error
	if _, err := LoadInventory(dir, "dev"); !errors.As(err, &ae) || ae.Hint == "" {
		t.Errorf("err = %v, want an *Error with a hint", err)
	}
}

func TestProtected(t *testing.T) {
	tests := []struct {
		r    Ref
		want bool
	}{
		{ref(spec.KindApplication, "DefaultApplication"), true},
		{ref(spec.KindApplication, "payments-web"), false},
		{ref(spec.KindUser, "admin"), true},
		{ref(spec.KindUser, "PRIMARY/Admin"), true},
		{ref(spec.KindUser, "administrator"), false},
		{ref(spec.KindKeyManager, "Resident Key Manager"), true},
		{ref(spec.KindKeyManager, "IS7"), false},
		{ref(spec.KindThrottlingPolicy, "10PerMin"), true},
		{ref(spec.KindThrottlingPolicy, "Gold"), true},
		{ref(spec.KindThrottlingPolicy, "AsyncUnlimited"), true},
		{ref(spec.KindThrottlingPolicy, "Platinum"), false},
		{ref(spec.KindRole, "everyone"), true},
		{ref(spec.KindSubscription, "DefaultApplication"), false},
	}
	for _, tt := range tests {
		if got := Protected(tt.r); got != tt.want {
			t.Errorf("Protected(%s) = %v, want %v", tt.r, got, tt.want)
		}
	}
}
