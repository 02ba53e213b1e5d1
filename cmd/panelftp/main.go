// Command panelftp runs the shared, jailed FTP service of a hosting server
// and manages its accounts and FTP sub-users. See the README.
package main

import (
	"os"

	"github.com/panelftp/panelftp/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:]))
}
