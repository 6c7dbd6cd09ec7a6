// Package dsl reads f2b's HCL pipeline language and turns it into an
// [engine.Spec], with a diagnostic at the exact source range for every
// mistake it finds.
//
// # Phases
//
// Load runs in phases and stops after a phase that found errors, because
// later phases would only report follow-on noise:
//
//  1. parse every file (a directory is all of its *.hcl files);
//  2. check each file's top level against the root schema;
//  3. evaluate variables and locals into the evaluation context;
//  4. decode every stage block into its registered Arguments, collecting
//     every error;
//  5. resolve inputs as traversals (never evaluated, so each reference keeps
//     its own range).
//
// Compile then hands the spec to [engine.Compile] and maps each problem it
// reports (undeclared input, mismatched event kinds, cycles, failed Build)
// back to the block, reference, attribute or heredoc line it concerns.
//
// The package never imports stage code: it is handed an [engine.Registry].
package dsl
