package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

var timeType = reflect.TypeOf(time.Time{})

// checkSame fails t with every path where got differs from want. Times
// compare by instant and must come back in UTC; nil and empty slices and
// maps are different, because the wire shape can tell them apart.
func checkSame(t *testing.T, what string, want, got any) {
	t.Helper()
	var out []string
	diff(what, reflect.ValueOf(want), reflect.ValueOf(got), &out)
	for _, d := range out {
		t.Error(d)
	}
}

func diff(path string, w, g reflect.Value, out *[]string) {
	if w.Type() != g.Type() {
		*out = append(*out, fmt.Sprintf("%s: type %s, want %s", path, g.Type(), w.Type()))
		return
	}
	if w.Type() == timeType {
		wt, gt := w.Interface().(time.Time), g.Interface().(time.Time)
		if !wt.Equal(gt) {
			*out = append(*out, fmt.Sprintf("%s: %s, want %s", path, gt.Format(time.RFC3339Nano), wt.Format(time.RFC3339Nano)))
		}
		if gt.Location() != time.UTC {
			*out = append(*out, fmt.Sprintf("%s: location %s, want UTC", path, gt.Location()))
		}
		return
	}
	switch w.Kind() {
	case reflect.Pointer, reflect.Interface:
		if w.IsNil() != g.IsNil() {
			*out = append(*out, fmt.Sprintf("%s: nil is %v, want %v", path, g.IsNil(), w.IsNil()))
			return
		}
		if !w.IsNil() {
			diff(path, w.Elem(), g.Elem(), out)
		}
	case reflect.Struct:
		for i := range w.NumField() {
			f := w.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			diff(path+"."+f.Name, w.Field(i), g.Field(i), out)
		}
	case reflect.Slice:
		if w.IsNil() != g.IsNil() {
			*out = append(*out, fmt.Sprintf("%s: nil is %v, want %v (nil and empty differ on the wire)", path, g.IsNil(), w.IsNil()))
			return
		}
		if w.Len() != g.Len() {
			*out = append(*out, fmt.Sprintf("%s: length %d, want %d: %v, want %v", path, g.Len(), w.Len(), g.Interface(), w.Interface()))
			return
		}
		for i := range w.Len() {
			diff(fmt.Sprintf("%s[%d]", path, i), w.Index(i), g.Index(i), out)
		}
	case reflect.Map:
		if w.IsNil() != g.IsNil() {
			*out = append(*out, fmt.Sprintf("%s: nil is %v, want %v", path, g.IsNil(), w.IsNil()))
			return
		}
		if w.Len() != g.Len() {
			*out = append(*out, fmt.Sprintf("%s: %v, want %v", path, g.Interface(), w.Interface()))
			return
		}
		for _, k := range w.MapKeys() {
			gv := g.MapIndex(k)
			if !gv.IsValid() {
				*out = append(*out, fmt.Sprintf("%s[%v]: missing", path, k))
				continue
			}
			diff(fmt.Sprintf("%s[%v]", path, k), w.MapIndex(k), gv, out)
		}
	default:
		if w.Interface() != g.Interface() {
			*out = append(*out, fmt.Sprintf("%s: %#v, want %#v", path, g.Interface(), w.Interface()))
		}
	}
}

// filler sets every exported field of a value to a distinct non-zero
// value, so a round trip through a store shows any field it drops —
// including fields added to the api types after the store was written.
type filler struct {
	n    int
	base time.Time
}

func newFiller(seed int) *filler {
	return &filler{n: seed * 1000, base: time.Date(2025, 3, 14, 10, 1, 0, 123456789, time.UTC)}
}

func (f *filler) next() int { f.n++; return f.n }

func (f *filler) fill(v reflect.Value) {
	if v.Type() == timeType {
		// Nanoseconds on purpose: the store must keep them.
		v.Set(reflect.ValueOf(f.base.Add(time.Duration(f.next())*time.Second + time.Duration(f.n)*time.Nanosecond)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d", f.next()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.next()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(f.next()))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.next()) + 0.25)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			}
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem())
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			f.fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.fill(k)
			f.fill(e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	}
}

// filled returns a T with every field set.
func filled[T any](seed int) T {
	var v T
	newFiller(seed).fill(reflect.ValueOf(&v).Elem())
	return v
}
