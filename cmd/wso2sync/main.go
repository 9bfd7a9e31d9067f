// Command wso2sync makes a WSO2 API Manager + Identity Server estate
// declarative: manifests in git, validated, planned and applied.
package main

import "os"

func main() { os.Exit(Main()) }
