package api

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"
)

// DriverKubernetes runs each node as a pod on a Kubernetes cluster.
const DriverKubernetes = "kubernetes"

// Kubernetes defaults.
const (
	DefaultKubernetesNamespace = "default"
	// DefaultKubernetesPort is PES_PORT inside a pod: every pod has an IP
	// of its own, so one port serves them all.
	DefaultKubernetesPort = 8080
)

// KubernetesLabelPrefix starts the label keys pesd puts on its pods; a
// group's own labels may not use it.
const KubernetesLabelPrefix = "pes-project.io/"

// KubernetesConfig configures the pods of a group whose driver is
// kubernetes. The program's command, args and env become the container's.
type KubernetesConfig struct {
	Namespace      string                 `json:"namespace,omitempty"`
	Image          string                 `json:"image"`
	Resources      *KubernetesResources   `json:"resources,omitempty"`
	NodeSelector   map[string]string      `json:"node_selector,omitempty"`
	Tolerations    []KubernetesToleration `json:"tolerations,omitempty"`
	Labels         map[string]string      `json:"labels,omitempty"`
	Annotations    map[string]string      `json:"annotations,omitempty"`
	ServiceAccount string                 `json:"service_account,omitempty"`
	// TerminationGracePeriod is the pod's, and the grace pesd deletes it
	// with at scale-in.
	TerminationGracePeriod string `json:"termination_grace_period,omitempty"`
}

// KubernetesResources are the container's requests and limits.
type KubernetesResources struct {
	Requests *KubernetesResourceList `json:"requests,omitempty"`
	Limits   *KubernetesResourceList `json:"limits,omitempty"`
}

// KubernetesResourceList holds Kubernetes quantities ("500m", "256Mi").
type KubernetesResourceList struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// KubernetesToleration is a pod toleration.
type KubernetesToleration struct {
	Key               string `json:"key,omitempty"`
	Operator          string `json:"operator,omitempty"` // Equal (default) or Exists
	Value             string `json:"value,omitempty"`
	Effect            string `json:"effect,omitempty"` // NoSchedule, PreferNoSchedule, NoExecute or "" (all)
	TolerationSeconds *int64 `json:"toleration_seconds,omitempty"`
}

// Toleration operators and taint effects.
const (
	TolerationEqual         = "Equal"
	TolerationExists        = "Exists"
	EffectNoSchedule        = "NoSchedule"
	EffectPreferNoSchedule  = "PreferNoSchedule"
	EffectNoExecute         = "NoExecute"
	maxKubernetesNameLength = 253
	maxKubernetesLabelValue = 63
)

// CloneKubernetes returns a deep copy of k, so resolving or patching the
// copy leaves k alone.
func CloneKubernetes(k *KubernetesConfig) *KubernetesConfig {
	if k == nil {
		return nil
	}
	c := *k
	c.NodeSelector = cloneMap(k.NodeSelector)
	c.Labels = cloneMap(k.Labels)
	c.Annotations = cloneMap(k.Annotations)
	c.Tolerations = append([]KubernetesToleration(nil), k.Tolerations...)
	if k.Resources != nil {
		r := *k.Resources
		if r.Requests != nil {
			q := *r.Requests
			r.Requests = &q
		}
		if r.Limits != nil {
			q := *r.Limits
			r.Limits = &q
		}
		c.Resources = &r
	}
	return &c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// ResolveKubernetes checks the kubernetes block of cfg and applies its
// defaults: the block only with driver kubernetes, where it is required
// for the image.
func ResolveKubernetes(cfg *GroupConfig) error {
	if cfg.Driver != DriverKubernetes {
		if cfg.Kubernetes != nil {
			return Invalid("kubernetes", "only applies to driver kubernetes; this group's driver is %s", cfg.Driver)
		}
		return nil
	}
	k := cfg.Kubernetes
	if k == nil {
		return Invalid("kubernetes.image", "is required: the container image each node's pod runs (a kubernetes block with image)")
	}
	if k.Namespace == "" {
		k.Namespace = DefaultKubernetesNamespace
	}
	if err := validateDNSLabel("kubernetes.namespace", k.Namespace); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(k.Image) == "":
		return Invalid("kubernetes.image", "is required: the container image each node's pod runs")
	case strings.ContainsAny(k.Image, " \t\r\n\x00"):
		return Invalid("kubernetes.image", "must not contain spaces; got %q", k.Image)
	}
	if err := validateResources(k.Resources); err != nil {
		return err
	}
	for _, m := range []struct {
		field    string
		kv       map[string]string
		isLabel  bool
		reserved bool
	}{
		{"kubernetes.node_selector", k.NodeSelector, true, false},
		{"kubernetes.labels", k.Labels, true, true},
		{"kubernetes.annotations", k.Annotations, false, false},
	} {
		for _, key := range sortedKeys(m.kv) {
			field := m.field + "." + key
			if err := validateQualifiedName(field, key); err != nil {
				return err
			}
			if m.reserved && strings.HasPrefix(key, KubernetesLabelPrefix) {
				return Invalid(field, "keys under %s are set by pesd to find its pods again", KubernetesLabelPrefix)
			}
			if m.isLabel {
				if err := validateLabelValue(field, m.kv[key]); err != nil {
					return err
				}
			}
		}
	}
	for i := range k.Tolerations {
		if err := validateToleration(fmt.Sprintf("kubernetes.tolerations[%d]", i), &k.Tolerations[i]); err != nil {
			return err
		}
	}
	if k.ServiceAccount != "" {
		if err := validateDNSSubdomain("kubernetes.service_account", k.ServiceAccount); err != nil {
			return err
		}
	}
	if _, err := ParseTerminationGrace(*k); err != nil {
		return err
	}
	return nil
}

// ParseTerminationGrace reads kubernetes.termination_grace_period: zero
// when unset (the grace pesd terminates nodes with applies), an *Error
// naming the field when it does not parse. The kubernetes driver reads it
// here.
func ParseTerminationGrace(k KubernetesConfig) (time.Duration, error) {
	if k.TerminationGracePeriod == "" {
		return 0, nil
	}
	var d time.Duration
	err := resolveDuration("kubernetes.termination_grace_period", &k.TerminationGracePeriod, "", 0, &d)
	return d, err
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func validateResources(r *KubernetesResources) error {
	if r == nil {
		return nil
	}
	type q struct {
		field string
		s     string
		v     *big.Rat
	}
	parse := func(list *KubernetesResourceList, kind string) (cpu, mem q, err error) {
		cpu = q{field: "kubernetes.resources." + kind + ".cpu"}
		mem = q{field: "kubernetes.resources." + kind + ".memory"}
		if list == nil {
			return cpu, mem, nil
		}
		for _, x := range []*q{&cpu, &mem} {
			if x == &cpu {
				x.s = list.CPU
			} else {
				x.s = list.Memory
			}
			if x.s == "" {
				continue
			}
			v, perr := ParseQuantity(x.s)
			if perr != nil {
				return cpu, mem, Invalid(x.field, "%v", perr)
			}
			if v.Sign() < 0 {
				return cpu, mem, Invalid(x.field, "must not be negative; got %q", x.s)
			}
			x.v = v
		}
		return cpu, mem, nil
	}
	rc, rm, err := parse(r.Requests, "requests")
	if err != nil {
		return err
	}
	lc, lm, err := parse(r.Limits, "limits")
	if err != nil {
		return err
	}
	for _, p := range [][2]q{{rc, lc}, {rm, lm}} {
		req, lim := p[0], p[1]
		if req.v != nil && lim.v != nil && req.v.Cmp(lim.v) > 0 {
			return Invalid(req.field, "must be at most the limit %s; got %s", lim.s, req.s)
		}
	}
	return nil
}

func validateToleration(field string, t *KubernetesToleration) error {
	if t.Key != "" {
		if err := validateQualifiedName(field+".key", t.Key); err != nil {
			return err
		}
	}
	if t.Operator == "" {
		t.Operator = TolerationEqual
	}
	if err := ValidateEnum(field+".operator", t.Operator, []string{TolerationEqual, TolerationExists}); err != nil {
		return err
	}
	switch {
	case t.Operator == TolerationExists && t.Value != "":
		return Invalid(field+".value", "must be empty when operator is Exists; got %q", t.Value)
	case t.Operator == TolerationEqual && t.Key == "":
		return Invalid(field+".key", "is required with operator Equal (an empty key with operator Exists tolerates every taint)")
	}
	if t.Value != "" {
		if err := validateLabelValue(field+".value", t.Value); err != nil {
			return err
		}
	}
	if t.Effect != "" {
		if err := ValidateEnum(field+".effect", t.Effect, []string{EffectNoSchedule, EffectPreferNoSchedule, EffectNoExecute}); err != nil {
			return err
		}
	}
	if t.TolerationSeconds != nil && t.Effect != EffectNoExecute {
		return Invalid(field+".toleration_seconds", "only applies to effect NoExecute; this toleration's effect is %q", t.Effect)
	}
	return nil
}

// validateDNSLabel checks a Kubernetes namespace-style name: at most 63
// of a-z, 0-9 and -, starting and ending with a letter or digit.
func validateDNSLabel(field, s string) error {
	if len(s) > maxKubernetesLabelValue || !isDNSLabel(s) {
		return Invalid(field, "must be a lowercase DNS label of at most %d characters (a-z, 0-9 and -, starting and ending with a letter or digit); got %q", maxKubernetesLabelValue, s)
	}
	return nil
}

// validateDNSSubdomain checks a Kubernetes object name: dot-separated DNS
// labels, at most 253 characters.
func validateDNSSubdomain(field, s string) error {
	ok := s != "" && len(s) <= maxKubernetesNameLength
	for _, part := range strings.Split(s, ".") {
		ok = ok && isDNSLabel(part)
	}
	if !ok {
		return Invalid(field, "must be a lowercase DNS subdomain (a-z, 0-9, - and ., at most %d characters); got %q", maxKubernetesNameLength, s)
	}
	return nil
}

func isDNSLabel(s string) bool {
	if s == "" || len(s) > maxKubernetesLabelValue {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return s[0] != '-' && s[len(s)-1] != '-'
}

// validateQualifiedName checks a label or annotation key: an optional DNS
// subdomain prefix and "/", then a name of at most 63 characters.
func validateQualifiedName(field, key string) error {
	name := key
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		if err := validateDNSSubdomain(field, key[:i]); err != nil {
			return Invalid(field, "the key's prefix before / must be a DNS subdomain; got %q", key)
		}
		name = key[i+1:]
	}
	if name == "" || !isLabelValue(name) {
		return Invalid(field, "key must be at most %d of letters, digits, -, _ and ., starting and ending with a letter or digit (optionally prefixed by a DNS subdomain and /); got %q", maxKubernetesLabelValue, key)
	}
	return nil
}

func validateLabelValue(field, v string) error {
	if v != "" && !isLabelValue(v) {
		return Invalid(field, "must be at most %d of letters, digits, -, _ and ., starting and ending with a letter or digit; got %q", maxKubernetesLabelValue, v)
	}
	return nil
}

func isLabelValue(s string) bool {
	if len(s) > maxKubernetesLabelValue {
		return false
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return s == "" || alnum(s[0]) && alnum(s[len(s)-1])
}

// ParseQuantity reads a Kubernetes quantity ("500m", "1.5Gi", "2e3") as
// an exact number. It follows the grammar of Kubernetes' own parser
// (k8s.io/apimachinery's resource.ParseQuantity, which the kubernetes
// driver's tests check it against), so the provider can check quantities
// at plan time without linking Kubernetes' libraries:
//
//	quantity ::= sign? number suffix
//	number   ::= digits | digits "." digits? | "." digits
//	suffix   ::= "" | n | u | m | k | M | G | T | P | E
//	           | Ki | Mi | Gi | Ti | Pi | Ei | (e|E) sign? digits
func ParseQuantity(s string) (*big.Rat, error) {
	bad := fmt.Errorf(`not a Kubernetes quantity: use a number with an optional suffix such as "500m", "2", "256Mi" or "1Gi"; got %q`, s)
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	intEnd := i
	for intEnd < len(s) && isDigit(s[intEnd]) {
		intEnd++
	}
	digits := s[start:intEnd]
	i = intEnd
	frac := ""
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		frac = s[i+1 : j]
		i = j
	}
	// Kubernetes reads a missing number as 0 ("Gi", "m"); so does this,
	// to accept exactly what the cluster accepts.
	if s == "" {
		return nil, bad
	}
	v, ok := new(big.Rat).SetString(orZero(digits) + "." + orZero(frac))
	if !ok {
		return nil, bad
	}
	suffix := s[i:]
	binary := map[string]uint{"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
	decimal := map[string]int{"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
	var exp int
	switch {
	case binary[suffix] > 0:
		v.Mul(v, new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), binary[suffix])))
		exp = 0
	case suffix != "" && (suffix[0] == 'e' || suffix[0] == 'E') && len(suffix) > 1:
		e := suffix[1:]
		sign := 1
		if e[0] == '+' || e[0] == '-' {
			if e[0] == '-' {
				sign = -1
			}
			e = e[1:]
		}
		if e == "" || len(e) > 4 {
			return nil, bad
		}
		for k := 0; k < len(e); k++ {
			if !isDigit(e[k]) {
				return nil, bad
			}
			exp = exp*10 + int(e[k]-'0')
		}
		exp *= sign
	default:
		d, ok := decimal[suffix]
		if !ok {
			return nil, bad
		}
		exp = d
	}
	if exp != 0 {
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil)
		if exp > 0 {
			v.Mul(v, new(big.Rat).SetInt(p))
		} else {
			v.Quo(v, new(big.Rat).SetInt(p))
		}
	}
	if neg {
		v.Neg(v)
	}
	return v, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// NodeType is the node type of a group's nodes for run records and
// recommendations: a kubernetes pod's requests and limits ("requests
// cpu=500m memory=256Mi; limits cpu=1"); "" for drivers without one.
func NodeType(g Group) string {
	k := g.Kubernetes
	if g.Driver != DriverKubernetes || k == nil || k.Resources == nil {
		return ""
	}
	var parts []string
	for _, l := range []struct {
		name string
		list *KubernetesResourceList
	}{{"requests", k.Resources.Requests}, {"limits", k.Resources.Limits}} {
		if l.list == nil || (l.list.CPU == "" && l.list.Memory == "") {
			continue
		}
		s := l.name
		if l.list.CPU != "" {
			s += " cpu=" + l.list.CPU
		}
		if l.list.Memory != "" {
			s += " memory=" + l.list.Memory
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
