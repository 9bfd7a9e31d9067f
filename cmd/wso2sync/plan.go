package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wso2sync/wso2sync/internal/spec"
)

func newPlanCmd(g *globals) *cobra.Command {
	var (
		f    planFlags
		out  string
		seal sealFlags
	)
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change in an environment's servers",
		Long: `plan loads the environment in --env, reads the live estate of its APIM and IS
servers, and prints the difference: + create, ~ update, ± replace, - delete,
with the differing fields and the manifest line that asks for each change.
It writes nothing to the servers.

--output json prints the plan as data (docs/plan-json.md); --format markdown
prints a PR comment (--markdown FILE writes one beside the text view);
--out FILE saves the plan with a hash of the live state it was computed
from, for 'wso2sync apply --plan FILE'.

Exit status: 0 no changes, 2 changes present, 1 error (as terraform plan
-detailed-exitcode).`,
		Example: `  wso2sync plan --env examples/environments/dev
  wso2sync plan --env envs/prod --out prod.plan.json
  wso2sync plan --env envs/prod --format markdown > comment.md`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			g.progress = newTermProgress(g)
			defer g.progress.done()
			p, err := loadPass(ctx, g, &seal, nil, func(*spec.Environment) bool { return true })
			if err != nil {
				return err
			}
			inv, err := loadInventory(g, p)
			if err != nil {
				return err
			}
			plan, err := p.MakePlan(ctx, inv)
			g.progress.done()
			if err != nil {
				return passError(g, err)
			}
			if err := renderPlan(g, plan, f); err != nil {
				return err
			}
			if out != "" {
				if err := writeSavedPlan(out, plan); err != nil {
					return err
				}
				fmt.Fprintf(g.stderr, "plan saved to %s; apply it with: wso2sync apply --env %s --plan %s\n", out, g.envDir, out)
			}
			g.log.Info("planned", "env", p.State.Name, "create", plan.Summary.Create, "update", plan.Summary.Update,
				"replace", plan.Summary.Replace, "delete", plan.Summary.Delete, "calls", callSummary(p))
			if plan.HasChanges() {
				return &cliError{code: exitChanges, reported: true}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "", "save the plan (with the live state's hash) to this file for 'apply --plan'")
	fl.StringVar(&f.format, "format", "text", "view of the plan on stdout: text or markdown (--output json for JSON)")
	fl.StringVar(&f.markdown, "markdown", "", "also write the Markdown view (a PR comment) to this file")
	seal.addRecipients(fl)
	seal.addIdentity(fl)
	return cmd
}
