// Package schema embeds the CUE schemas that every wso2sync manifest is
// validated against after overlays are merged.
package schema

import _ "embed"

// Source is the CUE source of all manifest definitions (#Environment,
// #KeyManager, #ThrottlingPolicy, #Application, #Subscription, #User, #Role,
// #Certificate, #Truststore).
//
//go:embed wso2sync.cue
var Source []byte

// Filename is the name CUE positions inside Source refer to.
const Filename = "schema/wso2sync.cue"
