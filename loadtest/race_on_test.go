//go:build race

package main

// raceEnabled: the tests run with the race detector, so TestSmoke builds
// the server with it too (the packages are compiled for -race already).
const raceEnabled = true
