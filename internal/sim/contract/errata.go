package contract

import (
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// Erratum is one known deviation between an official spec file and what
// WSO2 really does (WSO2-API.md §7), which the simulator reproduces on
// purpose. An erratum either fixes the loaded spec (Fix) or excuses the
// validation errors it matches — never more: Spec and Op pin it to one
// operation, Phase to the request or the response, Status to one status
// and Match to a substring of the validator's message.
type Erratum struct {
	// Spec is the spec file.
	Spec string
	// Op is the operation, "METHOD /base/path{template}" (Route.Pattern);
	// "" only for a Fix or for an erratum that concerns every operation
	// of the spec (say so in Reason).
	Op string
	// Phase is PhaseRequest or PhaseResponse (unused with Fix).
	Phase Phase
	// Status limits a response erratum to one status (0 = any).
	Status int
	// Match is a substring of the validation error excused.
	Match string
	// Reason says what the spec gets wrong, with the WSO2-API.md section.
	Reason string
	// Fix, if set, corrects the loaded spec instead.
	Fix func(*openapi3.T) error
}

const (
	specAdmin     = "apim-4.5.0_admin-api-v4.yaml"
	specDevportal = "apim-4.5.0_devportal-api-v3.yaml"
	specPublisher = "apim-4.5.0_publisher-api-v4.yaml"
	specAPIMDCR   = "apim-4.x_client-registration-v0.17_dcr.yaml"
	specSCIM      = "is-7.0-7.1_scim2.yaml"
	specISDCR     = "is-7.1-7.2_oauth-dcr-v1.1.yaml"
	specAPIRes    = "is-7.1_api-resources-v1.yaml"
	specKeystores = "is-7.0-7.3_keystores-v1.yaml"
)

// Errata is the one allow-list of spec deviations. Every entry must be
// needed by the suite (TestMain fails on unused entries in a full run).
var Errata = []Erratum{
	{
		Spec: specISDCR, Op: "GET /api/identity/oauth2/dcr/v1.1/register",
		Reason: "§7.21: getApplicationByName declares client_name as a path parameter of /register; " +
			"it is the query parameter /register?client_name=",
		Fix: func(doc *openapi3.T) error {
			op := opOf(doc, "/register", "GET")
			if op == nil {
				return fmt.Errorf("GET /register not found")
			}
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.Name == "client_name" {
					p.Value.In = openapi3.ParameterInQuery
					return nil
				}
			}
			return fmt.Errorf("client_name parameter not found")
		},
	},
	{
		Spec: specAPIMDCR, Op: "POST /client-registration/v0.17/register", Phase: PhaseRequest,
		Match: "readOnly",
		Reason: "§7.8: every RegistrationRequest property is readOnly: true, so a spec-correct " +
			"validator rejects every real registration request",
	},
}

func opOf(doc *openapi3.T, path, method string) *openapi3.Operation {
	pi := doc.Paths.Value(path)
	if pi == nil {
		return nil
	}
	return pi.GetOperation(method)
}
