package provider

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Models to and from Terraform values by their tfsdk tags, as the
// framework's Get and Set do, for the models of this provider: fields of
// framework value types (types.String, types.Object, timeouts.Value...),
// pointers to nested models (nil for null) and embedded models. The
// framework's reflection compiles a regular expression for every field it
// visits and walks the schema by path for every value; with 300 plans and
// 300 validations of node groups and triggers in an apply, that was a
// tenth of the provider's CPU. A model of another shape (a slice of
// structs) goes through the framework as before.

// errModelShape says a model has a field the codec does not handle.
var errModelShape = errors.New("model shape not handled by the codec")

// schemaTyped is the part of a schema the codec needs: the object type of
// its values (tfsdk.Config, Plan and State carry one).
type schemaTyped interface {
	Type() attr.Type
}

// decodeModel sets the struct dst points to from raw, an object of the
// schema's type.
func decodeModel(ctx context.Context, raw tftypes.Value, ty attr.Type, dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return errModelShape
	}
	return decodeObject(ctx, raw, ty, v.Elem())
}

func decodeObject(ctx context.Context, raw tftypes.Value, ty attr.Type, dst reflect.Value) error {
	ot, ok := ty.(attr.TypeWithAttributeTypes)
	if !ok {
		return errModelShape
	}
	if !raw.IsKnown() || raw.IsNull() {
		return fmt.Errorf("cannot read a null or unknown object into %s", dst.Type())
	}
	var vals map[string]tftypes.Value
	if err := raw.As(&vals); err != nil {
		return err
	}
	return decodeFields(ctx, vals, ot.AttributeTypes(), dst)
}

// eachField calls fn with each tagged field of the struct s, those of
// embedded models included, and its attribute's type in types.
func eachField(s reflect.Value, types map[string]attr.Type, fn func(name string, at attr.Type, f reflect.StructField, fv reflect.Value) error) error {
	t := s.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), s.Field(i)
		name := f.Tag.Get("tfsdk")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if err := eachField(fv, types, fn); err != nil {
				return err
			}
			continue
		}
		at, ok := types[name]
		if !ok {
			return fmt.Errorf("%s.%s: no attribute %q in the schema", t, f.Name, name)
		}
		if err := fn(name, at, f, fv); err != nil {
			return err
		}
	}
	return nil
}

func decodeFields(ctx context.Context, vals map[string]tftypes.Value, types map[string]attr.Type, dst reflect.Value) error {
	return eachField(dst, types, func(name string, at attr.Type, f reflect.StructField, fv reflect.Value) error {
		raw := vals[name]
		if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
			if raw.IsNull() {
				fv.SetZero()
				return nil
			}
			p := reflect.New(f.Type.Elem())
			if err := decodeObject(ctx, raw, at, p.Elem()); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			fv.Set(p)
			return nil
		}
		if !f.Type.Implements(attrValueType) {
			return errModelShape
		}
		v, err := at.ValueFromTerraform(ctx, raw)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rv := reflect.ValueOf(v)
		if !rv.Type().AssignableTo(f.Type) {
			return errModelShape
		}
		fv.Set(rv)
		return nil
	})
}

var attrValueType = reflect.TypeFor[attr.Value]()

// encodeModel is the object of type ty holding the struct src points to.
func encodeModel(ctx context.Context, src any, ty attr.Type) (tftypes.Value, error) {
	v := reflect.ValueOf(src)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return tftypes.Value{}, errModelShape
	}
	return encodeObject(ctx, v.Elem(), ty)
}

func encodeObject(ctx context.Context, src reflect.Value, ty attr.Type) (tftypes.Value, error) {
	ot, ok := ty.(attr.TypeWithAttributeTypes)
	if !ok {
		return tftypes.Value{}, errModelShape
	}
	types := ot.AttributeTypes()
	vals := make(map[string]tftypes.Value, len(types))
	if err := encodeFields(ctx, src, types, vals); err != nil {
		return tftypes.Value{}, err
	}
	if len(vals) != len(types) {
		return tftypes.Value{}, fmt.Errorf("%s has %d of the %d attributes of its schema", src.Type(), len(vals), len(types))
	}
	tfType := ty.TerraformType(ctx)
	if err := tftypes.ValidateValue(tfType, vals); err != nil {
		return tftypes.Value{}, err
	}
	return tftypes.NewValue(tfType, vals), nil
}

func encodeFields(ctx context.Context, src reflect.Value, types map[string]attr.Type, vals map[string]tftypes.Value) error {
	return eachField(src, types, func(name string, at attr.Type, f reflect.StructField, fv reflect.Value) error {
		if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
			if fv.IsNil() {
				vals[name] = tftypes.NewValue(at.TerraformType(ctx), nil)
				return nil
			}
			v, err := encodeObject(ctx, fv.Elem(), at)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			vals[name] = v
			return nil
		}
		av, ok := fv.Interface().(attr.Value)
		if !ok {
			return errModelShape
		}
		v, err := av.ToTerraformValue(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		vals[name] = v
		return nil
	})
}

// rawOf is the value and schema of a configuration, plan or state.
func rawOf(from any) (tftypes.Value, schemaTyped, bool) {
	switch f := from.(type) {
	case tfsdk.Config:
		return f.Raw, f.Schema, f.Schema != nil
	case tfsdk.Plan:
		return f.Raw, f.Schema, f.Schema != nil
	case tfsdk.State:
		return f.Raw, f.Schema, f.Schema != nil
	}
	return tftypes.Value{}, nil, false
}

// getModel reads a configuration, plan or state into dst, a pointer to a
// model, as from.Get does.
func getModel(ctx context.Context, from interface {
	Get(context.Context, any) diag.Diagnostics
}, dst any) diag.Diagnostics {
	raw, schema, ok := rawOf(from)
	if !ok {
		return from.Get(ctx, dst)
	}
	err := decodeModel(ctx, raw, schema.Type(), dst)
	if errors.Is(err, errModelShape) {
		return from.Get(ctx, dst)
	}
	if err != nil {
		return conversionError("read", err)
	}
	return nil
}

// setState writes the model src points to into st, as st.Set does.
func setState(ctx context.Context, st *tfsdk.State, src any) diag.Diagnostics {
	return setModel(ctx, &st.Raw, st.Schema, src, st.Set)
}

// setPlan is setState for a plan.
func setPlan(ctx context.Context, p *tfsdk.Plan, src any) diag.Diagnostics {
	return setModel(ctx, &p.Raw, p.Schema, src, p.Set)
}

// setModel encodes src into *dst by schema; set, the framework's own Set,
// serves a model the codec does not handle (and a value with no schema).
func setModel(ctx context.Context, dst *tftypes.Value, schema schemaTyped, src any,
	set func(context.Context, any) diag.Diagnostics) diag.Diagnostics {
	if schema == nil {
		return set(ctx, src)
	}
	v, err := encodeModel(ctx, src, schema.Type())
	if errors.Is(err, errModelShape) {
		return set(ctx, src)
	}
	if err != nil {
		return conversionError("write", err)
	}
	*dst = v
	return nil
}

// conversionError is the framework's own error for a value its Get or Set
// could not convert.
func conversionError(verb string, err error) diag.Diagnostics {
	var diags diag.Diagnostics
	diags.AddError("Value Conversion Error",
		"An unexpected error was encountered trying to "+verb+" a value. This is always an error in the provider. "+
			"Please report the following to the provider developer:\n\n"+err.Error())
	return diags
}

// decodeAttributes sets the struct dst points to from the attributes of
// an object value, as types.Object.As does.
func decodeAttributes(attrs map[string]attr.Value, dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return errModelShape
	}
	s := v.Elem()
	t := s.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		a, ok := attrs[f.Tag.Get("tfsdk")]
		if !ok || a == nil {
			return errModelShape
		}
		av := reflect.ValueOf(a)
		if !av.Type().AssignableTo(f.Type) {
			return errModelShape
		}
		s.Field(i).Set(av)
	}
	return nil
}
