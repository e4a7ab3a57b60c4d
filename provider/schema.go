package provider

import (
	"fmt"
	"strings"

	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Schema builders shared by the resources and the data sources, so that an
// attribute of one kind is declared one way everywhere.

// codeList writes values as "`a`, `b`, `c`" for a description.
func codeList(vals []string) string {
	quoted := make([]string, len(vals))
	for i, v := range vals {
		quoted[i] = "`" + v + "`"
	}
	return strings.Join(quoted, ", ")
}

// Read-only attributes of the data sources.

func computedString(desc string) dschema.StringAttribute {
	return dschema.StringAttribute{MarkdownDescription: desc, Computed: true}
}

func computedInt(desc string) dschema.Int64Attribute {
	return dschema.Int64Attribute{MarkdownDescription: desc, Computed: true}
}

func computedFloat(desc string) dschema.Float64Attribute {
	return dschema.Float64Attribute{MarkdownDescription: desc, Computed: true}
}

func computedBool(desc string) dschema.BoolAttribute {
	return dschema.BoolAttribute{MarkdownDescription: desc, Computed: true}
}

func computedStrings(desc string) dschema.ListAttribute {
	return dschema.ListAttribute{MarkdownDescription: desc, Computed: true, ElementType: types.StringType}
}

// computedList is a read-only list of objects with the given attributes.
func computedList(desc string, attrs map[string]dschema.Attribute) dschema.ListNestedAttribute {
	return dschema.ListNestedAttribute{
		MarkdownDescription: desc,
		Computed:            true,
		NestedObject:        dschema.NestedAttributeObject{Attributes: attrs},
	}
}

// with returns the attributes of base and of more in one new map; more
// wins on a name both have.
func with(base, more map[string]dschema.Attribute) map[string]dschema.Attribute {
	out := make(map[string]dschema.Attribute, len(base)+len(more))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// Settings of the resources that pesd fills in when they are omitted: the
// default is shown in the plan and named at the end of the description.

func defaultedString(desc, def string, validators ...validator.String) rschema.StringAttribute {
	return rschema.StringAttribute{
		MarkdownDescription: desc + " Defaults to `" + def + "`.",
		Optional:            true,
		Computed:            true,
		Default:             stringdefault.StaticString(def),
		Validators:          validators,
	}
}

// defaultedDuration is a duration setting such as `60s` or `14d`.
func defaultedDuration(desc, def string) rschema.StringAttribute {
	return defaultedString(desc, def, durationValidator{})
}

func defaultedInt(desc string, def int64, validators ...validator.Int64) rschema.Int64Attribute {
	return rschema.Int64Attribute{
		MarkdownDescription: fmt.Sprintf("%s Defaults to `%d`.", desc, def),
		Optional:            true,
		Computed:            true,
		Default:             int64default.StaticInt64(def),
		Validators:          validators,
	}
}

func defaultedBool(desc string, def bool) rschema.BoolAttribute {
	return rschema.BoolAttribute{
		MarkdownDescription: fmt.Sprintf("%s Defaults to `%t`.", desc, def),
		Optional:            true,
		Computed:            true,
		Default:             booldefault.StaticBool(def),
	}
}

func durationValidators(more ...validator.String) []validator.String {
	return append([]validator.String{durationValidator{}}, more...)
}

// readOnly is the data source twin of a resource attribute: the same type
// and, for a nested object, the same attributes, all computed. desc
// replaces the description when it is not empty (a resource's says how to
// set a value, a data source's only what it is); nested attributes keep
// the resource's. Deriving one from the other keeps the pes_node_group
// resource and data source from drifting apart, which matters because they
// share their models and conversions.
func readOnly(a rschema.Attribute, desc string) (dschema.Attribute, error) {
	if desc == "" {
		desc = a.GetMarkdownDescription()
	}
	switch a := a.(type) {
	case rschema.StringAttribute:
		return computedString(desc), nil
	case rschema.Int64Attribute:
		return computedInt(desc), nil
	case rschema.Float64Attribute:
		return computedFloat(desc), nil
	case rschema.BoolAttribute:
		return computedBool(desc), nil
	case rschema.ListAttribute:
		return dschema.ListAttribute{MarkdownDescription: desc, Computed: true, ElementType: a.ElementType}, nil
	case rschema.MapAttribute:
		return dschema.MapAttribute{MarkdownDescription: desc, Computed: true, ElementType: a.ElementType}, nil
	case rschema.ListNestedAttribute:
		attrs := make(map[string]dschema.Attribute, len(a.NestedObject.Attributes))
		for name, nested := range a.NestedObject.Attributes {
			ro, err := readOnly(nested, "")
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			attrs[name] = ro
		}
		return dschema.ListNestedAttribute{MarkdownDescription: desc, Computed: true,
			NestedObject: dschema.NestedAttributeObject{Attributes: attrs}}, nil
	case rschema.SingleNestedAttribute:
		attrs := make(map[string]dschema.Attribute, len(a.Attributes))
		for name, nested := range a.Attributes {
			ro, err := readOnly(nested, "")
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			attrs[name] = ro
		}
		return dschema.SingleNestedAttribute{MarkdownDescription: desc, Computed: true, Attributes: attrs}, nil
	default:
		return nil, fmt.Errorf("no read-only form for %T", a)
	}
}
