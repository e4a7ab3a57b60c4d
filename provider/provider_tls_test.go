package provider

import (
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/pes-project/terraform-provider-pes/reconciler/server/tlstest"
)

// TestAccTLS: the provider against a pesd serving https with a
// certificate of a CA generated in the test: with ca_cert (a path, or
// the PEM text) it creates, imports and plans a group; with another CA
// it fails, saying the certificate is not signed by a CA it trusts.
func TestAccTLS(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
	ca, wrong := tlstest.NewCA(t, "pes acc CA"), tlstest.NewCA(t, "another CA")
	tmp := t.TempDir()
	certFile, keyFile, caFile := ca.Files(t, tmp, "pesd")
	endpoint, stop, err := startPesd(tmp, "--tls-cert", certFile, "--tls-key", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	withCA := func(caCert string) string {
		return fmt.Sprintf(`
provider "pes" {
  endpoint = %q
  token    = %q
  ca_cert  = %q
}
`, endpoint, accToken, caCert)
	}
	const name = "pes_node_group.test"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: withCA(caFile) + simGroup("acc-tls", 1, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(name, tfjsonpath.New("actual_quantity"), knownvalue.Int64Exact(1)),
				},
			},
			{
				Config:            withCA(string(ca.PEM)) + simGroup("acc-tls", 1, ""),
				ResourceName:      name,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				Config:      withCA(string(wrong.PEM)) + simGroup("acc-tls", 1, ""),
				ExpectError: regexp.MustCompile(`not signed by a CA this client trusts`),
			},
			{
				// Back with the right CA, so the group can be destroyed.
				Config: withCA(caFile) + simGroup("acc-tls", 1, ""),
			},
		},
	})
}
