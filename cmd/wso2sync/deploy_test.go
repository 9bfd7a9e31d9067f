package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wso2sync/wso2sync/internal/daemon"
)

// flagValues maps each --flag of a wso2sync argument list to its value.
func flagValues(args []string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, val, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			val = args[i+1]
			i++
		}
		m[name] = val
	}
	return m
}

// listenPort is the port of a --listen address (":8080", "127.0.0.1:8080").
func listenPort(t *testing.T, addr string) int {
	t.Helper()
	i := strings.LastIndex(addr, ":")
	p, err := strconv.Atoi(addr[i+1:])
	if i < 0 || err != nil {
		t.Fatalf("--listen %q has no port", addr)
	}
	return p
}

// TestDaemonServesProbePaths: the paths the deploy files probe and scrape
// are the daemon's (200 for /healthz and /metrics; /readyz answers 503
// before the first pass, never 404).
func TestDaemonServesProbePaths(t *testing.T) {
	src, err := daemon.NewDirSource(daemon.DirOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(daemon.Options{Source: src, Pass: func(context.Context, daemon.PassRequest) (daemon.PassResult, error) {
		return daemon.PassResult{}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	h := d.Handler()
	for path, want := range map[string][]int{"/healthz": {200}, "/readyz": {200, 503}, "/metrics": {200}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if !containsInt(want, rec.Code) {
			t.Errorf("GET %s = %d, want one of %v", path, rec.Code, want)
		}
	}
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// TestKubernetesManifests: the manifest set parses and holds together:
// one replica with Recreate, args the daemon accepts, probes on /healthz
// and /readyz at the port --listen names, the state volume at --cache-dir
// backed by the PVC, credentials (including the variables the flags name)
// from the Secret, and a ServiceMonitor scraping /metrics on the Service.
func TestKubernetesManifests(t *testing.T) {
	docs := map[string]map[string]any{}
	dec := yaml.NewDecoder(bytes.NewReader(repoFile(t, "deploy/kubernetes/wso2sync.yaml")))
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatal(err)
		}
		if d == nil {
			continue
		}
		docs[d["kind"].(string)] = d
	}
	for _, k := range []string{"Secret", "PersistentVolumeClaim", "Deployment", "Service", "ServiceMonitor"} {
		if docs[k] == nil {
			t.Fatalf("no %s in deploy/kubernetes/wso2sync.yaml", k)
		}
	}
	var kust struct{ Resources []string }
	if err := yaml.Unmarshal(repoFile(t, "deploy/kubernetes/kustomization.yaml"), &kust); err != nil || len(kust.Resources) != 1 || kust.Resources[0] != "wso2sync.yaml" {
		t.Fatalf("kustomization: %v %v", kust, err)
	}
	name := func(d map[string]any) string { return d["metadata"].(map[string]any)["name"].(string) }
	// Decode the Deployment into a typed shape for the checks.
	var dep struct {
		Spec struct {
			Replicas int
			Strategy struct{ Type string }
			Template struct {
				Metadata struct{ Labels map[string]string }
				Spec     struct {
					TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
					Containers                    []struct {
						Args    []string
						EnvFrom []struct {
							SecretRef struct{ Name string } `yaml:"secretRef"`
						} `yaml:"envFrom"`
						Ports []struct {
							Name          string
							ContainerPort int `yaml:"containerPort"`
						}
						VolumeMounts []struct {
							Name      string
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
					}
					Volumes []struct {
						Name                  string
						PersistentVolumeClaim struct {
							ClaimName string `yaml:"claimName"`
						} `yaml:"persistentVolumeClaim"`
					}
				}
			}
		}
	}
	b, _ := yaml.Marshal(docs["Deployment"])
	if err := yaml.Unmarshal(b, &dep); err != nil {
		t.Fatal(err)
	}
	// The probes, decoded loosely: a port may be a name or a number.
	var probes struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						LivenessProbe struct {
							HTTPGet map[string]any `yaml:"httpGet"`
						} `yaml:"livenessProbe"`
						ReadinessProbe struct {
							HTTPGet map[string]any `yaml:"httpGet"`
						} `yaml:"readinessProbe"`
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &probes); err != nil {
		t.Fatal(err)
	}
	s := dep.Spec
	if s.Replicas != 1 || s.Strategy.Type != "Recreate" {
		t.Errorf("Deployment: replicas %d, strategy %q; want 1 and Recreate", s.Replicas, s.Strategy.Type)
	}
	if len(s.Template.Spec.Containers) != 1 {
		t.Fatalf("want one container")
	}
	c := s.Template.Spec.Containers[0]
	if err := checkInvocation(c.Args); err != "" {
		t.Errorf("container args: %s", err)
	}
	if len(c.Args) == 0 || c.Args[0] != "run" {
		t.Fatalf("container args must start with run: %v", c.Args)
	}
	fv := flagValues(c.Args)
	port := listenPort(t, fv["listen"])
	portByName := map[string]int{}
	for _, p := range c.Ports {
		portByName[p.Name] = p.ContainerPort
	}
	if portByName["http"] != port {
		t.Errorf("containerPort http = %d, --listen says %d", portByName["http"], port)
	}
	pc := probes.Spec.Template.Spec.Containers[0]
	for probe, want := range map[string]string{"liveness": "/healthz", "readiness": "/readyz"} {
		g := pc.LivenessProbe.HTTPGet
		if probe == "readiness" {
			g = pc.ReadinessProbe.HTTPGet
		}
		if g["path"] != want {
			t.Errorf("%s probe path %v, want %s", probe, g["path"], want)
		}
		switch p := g["port"].(type) {
		case string:
			if portByName[p] != port {
				t.Errorf("%s probe port %q is not the --listen port %d", probe, p, port)
			}
		case int:
			if p != port {
				t.Errorf("%s probe port %d is not the --listen port %d", probe, p, port)
			}
		default:
			t.Errorf("%s probe has no port", probe)
		}
	}
	claim := map[string]string{}
	for _, v := range s.Template.Spec.Volumes {
		claim[v.Name] = v.PersistentVolumeClaim.ClaimName
	}
	var stateMounted bool
	for _, m := range c.VolumeMounts {
		if m.MountPath == fv["cache-dir"] && claim[m.Name] == name(docs["PersistentVolumeClaim"]) {
			stateMounted = true
		}
	}
	if !stateMounted {
		t.Errorf("--cache-dir %q is not a mount of the PVC %s", fv["cache-dir"], name(docs["PersistentVolumeClaim"]))
	}
	secret := docs["Secret"]
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef.Name != name(secret) {
		t.Errorf("envFrom does not name the Secret %s", name(secret))
	}
	keys := secret["stringData"].(map[string]any)
	for _, f := range []string{"git-password-env", "webhook-secret-env"} {
		if v := fv[f]; v == "" || keys[v] == nil {
			t.Errorf("--%s %q is not a key of the Secret", f, v)
		}
	}
	if g := s.Template.Spec.TerminationGracePeriodSeconds; time.Duration(g)*time.Second <= daemon.DefaultShutdownTimeout {
		t.Errorf("terminationGracePeriodSeconds %d does not leave a pass its --shutdown-timeout (%s)", g, daemon.DefaultShutdownTimeout)
	}
	var svc struct {
		Spec struct {
			Selector map[string]string
			Ports    []struct {
				Name       string
				TargetPort any `yaml:"targetPort"`
			}
		}
	}
	b, _ = yaml.Marshal(docs["Service"])
	_ = yaml.Unmarshal(b, &svc)
	for k, v := range svc.Spec.Selector {
		if s.Template.Metadata.Labels[k] != v {
			t.Errorf("Service selector %s=%s does not match the pod labels", k, v)
		}
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != "http" {
		t.Errorf("Service must target the container port http: %+v", svc.Spec.Ports)
	}
	var sm struct {
		Spec struct {
			Endpoints []struct{ Port, Path string }
		}
	}
	b, _ = yaml.Marshal(docs["ServiceMonitor"])
	_ = yaml.Unmarshal(b, &sm)
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor must scrape /metrics on the Service port %s: %+v", svc.Spec.Ports[0].Name, sm.Spec.Endpoints)
	}
}

// TestSystemdUnit: ExecStart is a daemon command line with real flags, the
// state directory is --cache-dir, the stop timeout leaves a pass its
// --shutdown-timeout, and the hardening options are there.
func TestSystemdUnit(t *testing.T) {
	unit := strings.ReplaceAll(string(repoFile(t, "deploy/systemd/wso2sync.service")), "\\\n", " ")
	kv := map[string][]string{}
	for _, line := range strings.Split(unit, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("not a key=value line: %q", line)
		}
		kv[k] = append(kv[k], v)
	}
	exec := strings.Fields(kv["ExecStart"][0])
	if filepath.Base(exec[0]) != "wso2sync" {
		t.Fatalf("ExecStart runs %s", exec[0])
	}
	if err := checkInvocation(exec[1:]); err != "" || exec[1] != "run" {
		t.Errorf("ExecStart: %s %v", err, exec[1:])
	}
	fv := flagValues(exec[1:])
	if fv["cache-dir"] != "/var/lib/"+kv["StateDirectory"][0] {
		t.Errorf("--cache-dir %q is not the StateDirectory %v", fv["cache-dir"], kv["StateDirectory"])
	}
	if d, err := time.ParseDuration(kv["TimeoutStopSec"][0]); err != nil || d <= daemon.DefaultShutdownTimeout {
		t.Errorf("TimeoutStopSec %v must exceed --shutdown-timeout %s", kv["TimeoutStopSec"], daemon.DefaultShutdownTimeout)
	}
	for k, want := range map[string]string{"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "DynamicUser": "yes", "CapabilityBoundingSet": "", "RestrictSUIDSGID": "yes",
		"MemoryDenyWriteExecute": "yes", "SystemCallArchitectures": "native"} {
		if len(kv[k]) == 0 || kv[k][0] != want {
			t.Errorf("%s=%v, want %q", k, kv[k], want)
		}
	}
}

// TestDockerfile: multi-stage, a static (CGO-free) binary on an image
// without a shell, a non-root user, and a default command, health check,
// port and volume that agree with the daemon's flags.
func TestDockerfile(t *testing.T) {
	df := string(repoFile(t, "deploy/docker/Dockerfile"))
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, got %d FROM lines", len(froms))
	}
	final := froms[len(froms)-1][1]
	if !strings.Contains(final, "distroless/static") && final != "scratch" {
		t.Errorf("final image %s may have a shell; want distroless/static or scratch", final)
	}
	if !strings.Contains(df, "CGO_ENABLED=0") {
		t.Error("the binary must be static (CGO_ENABLED=0)")
	}
	user := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(user) == 0 || strings.HasPrefix(user[len(user)-1][1], "0") || strings.HasPrefix(user[len(user)-1][1], "root") {
		t.Errorf("the final stage must set a non-root USER: %v", user)
	}
	execForm := func(instr string) []string {
		m := regexp.MustCompile(`(?m)^` + instr + `\s+(?:--\S+\s+)*(?:CMD\s+)?(\[.*\])\s*$`).FindStringSubmatch(df)
		if m == nil {
			t.Fatalf("no exec-form %s", instr)
		}
		var v []string
		if err := yaml.Unmarshal([]byte(m[1]), &v); err != nil {
			t.Fatalf("%s: %v", instr, err)
		}
		return v
	}
	ep, cmd, hc := execForm("ENTRYPOINT"), execForm("CMD"), execForm("HEALTHCHECK")
	if len(ep) != 1 || filepath.Base(ep[0]) != "wso2sync" {
		t.Errorf("ENTRYPOINT %v", ep)
	}
	if err := checkInvocation(cmd); err != "" || cmd[0] != "run" {
		t.Errorf("CMD: %s %v", err, cmd)
	}
	if err := checkInvocation(hc[1:]); err != "" {
		t.Errorf("HEALTHCHECK: %s", err)
	}
	fv := flagValues(cmd)
	port := listenPort(t, fv["listen"])
	if !regexp.MustCompile(`(?m)^EXPOSE\s+` + strconv.Itoa(port) + `\b`).MatchString(df) {
		t.Errorf("EXPOSE does not name the --listen port %d", port)
	}
	if hp := listenPort(t, flagValues(hc[1:])["url"]); hp != port {
		t.Errorf("HEALTHCHECK asks port %d, the daemon listens on %d", hp, port)
	}
	if !strings.Contains(df, `VOLUME ["`+fv["cache-dir"]+`"]`) {
		t.Errorf("VOLUME is not the --cache-dir %s", fv["cache-dir"])
	}
}

// TestComposeKit: the e2e kit's compose file names the official images in
// the seed's topology, and its scripts are valid bash.
func TestComposeKit(t *testing.T) {
	var c struct {
		Services map[string]struct {
			Image     string
			Ports     []string
			Volumes   []string
			DependsOn map[string]struct{ Condition string } `yaml:"depends_on"`
		}
	}
	if err := yaml.Unmarshal(repoFile(t, "deploy/compose/compose.yaml"), &c); err != nil {
		t.Fatal(err)
	}
	am, is := c.Services["wso2am"], c.Services["wso2is"]
	if am.Image != "wso2/wso2am:4.5.0" || is.Image != "wso2/wso2is:7.1.0" {
		t.Errorf("images %q %q", am.Image, is.Image)
	}
	if strings.Join(am.Ports, ",") != "9443:9443,8243:8243" || strings.Join(is.Ports, ",") != "9444:9443" {
		t.Errorf("ports: APIM %v, IS %v; the seed publishes APIM 9443 and 8243, IS 9443 as 9444", am.Ports, is.Ports)
	}
	if am.DependsOn["wso2is"].Condition != "service_healthy" {
		t.Error("APIM must start after IS is healthy")
	}
	for n, s := range map[string][]string{"wso2am": am.Volumes, "wso2is": is.Volumes} {
		if len(s) != 1 || !strings.Contains(s[0], "${E2E_STATE") || !strings.HasSuffix(s[0], ":/home/wso2carbon/wso2-config-volume:ro") {
			t.Errorf("%s volumes %v: want the E2E_STATE config overlay", n, s)
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"deploy/compose/run-e2e.sh", "deploy/compose/publish-apis.sh", "scripts/e2e.sh"} {
		if out, err := exec.Command(bash, "-n", filepath.Join("..", "..", f)).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", f, err, out)
		}
	}
}
