// composecheck loads docker-compose files with compose-go, the loader of `docker compose`, and
// prints the resolved project as JSON (like `docker compose -f a -f b config --format json`).
// Several files, comma-separated, are merged in order as `-f` does.
// Built by scripts/bootstrap.sh; used by tests/test_compose.py, since these machines have the
// docker CLI but no compose plugin and no engine.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: composecheck docker-compose.yml[,override.yml...] [env-file]")
		os.Exit(2)
	}
	opts := []cli.ProjectOptionsFn{cli.WithOsEnv, cli.WithName("otel-ccmon")}
	if len(os.Args) > 2 {
		opts = append(opts, cli.WithEnvFiles(os.Args[2]), cli.WithDotEnv)
	}
	options, err := cli.NewProjectOptions(strings.Split(os.Args[1], ","), opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "composecheck:", err)
		os.Exit(1)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "composecheck:", err)
		os.Exit(1)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, "composecheck:", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
