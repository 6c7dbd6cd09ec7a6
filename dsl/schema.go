package dsl

import "github.com/hashicorp/hcl/v2"

// Block kinds and meta-attributes of the language.
const (
	kindVariable = "variable"
	kindLocals   = "locals"

	attrInputs  = "inputs"
	attrEnabled = "enabled"
)

// stageKinds are the block kinds that become nodes, in flow order.
var stageKinds = []string{"source", "matcher", "counter", "sink"}

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: kindVariable, LabelNames: []string{"name"}},
		{Type: kindLocals},
		{Type: "source", LabelNames: []string{"type", "name"}},
		{Type: "matcher", LabelNames: []string{"type", "name"}},
		{Type: "counter", LabelNames: []string{"type", "name"}},
		{Type: "sink", LabelNames: []string{"type", "name"}},
	},
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "default"},
		{Name: "description"},
	},
}

// metaSchema holds the attributes every stage block accepts besides its
// type's own arguments.
var metaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: attrInputs},
		{Name: attrEnabled},
	},
}
