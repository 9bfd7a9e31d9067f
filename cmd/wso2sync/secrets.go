package main

import (
	"github.com/spf13/cobra"
)

// newSecretsCmd is `wso2sync secrets`: list, open and reseal the sealed
// outputs of an environment.
func newSecretsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "List, open and re-seal the sealed outputs (age) of an environment",
		Args:  cobra.NoArgs,
	}
	_ = g
	return cmd
}
