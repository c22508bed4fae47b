// compose-check loads a compose file the way Docker Compose v2 does, with compose-go (the Compose
// Specification's reference loader, which Docker Compose v2 is built on): the specification's
// schema, interpolation (a missing `${VAR:?}` is an error), merge keys, profiles and consistency
// checks. It prints the services it would run, one per line, and exits 1 on any error. The
// environment is the process's own.
//
//	compose-check [--profile NAME]... FILE
//
// tests/integration/test_compose.py builds it (qlcb_devstack.compose.compose_checker: go build
// with the machine's Go, cached by this folder's digest) and runs it beside Debian's
// docker-compose 1.29, so docker-compose.yml stays valid for both.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	var profiles []string
	args := os.Args[1:]
	for len(args) > 1 && args[0] == "--profile" {
		profiles = append(profiles, args[1])
		args = args[2:]
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: compose-check [--profile NAME]... FILE")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions(
		args,
		cli.WithOsEnv,
		cli.WithName("compose-check"),
		cli.WithProfiles(profiles),
		cli.WithConsistency(true),
	)
	if err == nil {
		var project interface{ ServiceNames() []string }
		project, err = options.LoadProject(context.Background())
		if err == nil {
			for _, name := range project.ServiceNames() {
				fmt.Println(name)
			}
			return
		}
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
