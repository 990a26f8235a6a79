// Package identity resolves who is writing: the values of the service and
// instance labels that keep the series of many writers apart in one
// Prometheus-compatible workspace.
//
//	id, err := identity.Resolve(ctx, identity.Options{Service: "auth"})
//	if err != nil {
//		return err // an *UnresolvedError lists the sources tried and how to set a value
//	}
//	fmt.Println(id) // service="auth" (option), instance="0123456789abcdef0123456789abcdef" (ECS task metadata (task ARN))
//	labels := id.Labels() // []wire.Label, sorted, for every series
//
// Without both labels, writers that export the same metrics (Go runtime,
// process, HTTP server) write one series; Cortex and AMP then refuse their
// samples with "new-value-for-timestamp" whenever two of them push the same
// millisecond, and silently interleave their values otherwise.
//
// # Sources and precedence
//
// Each value comes from the first source that has it; a later source never
// overrides an earlier one, and Identity.Tried records what every consulted
// source said, including values it offered that an earlier source shadowed.
//
//	#  source                      service                          instance
//	1  Options                     Options.Service                  Options.Instance
//	2  RWKIT_* env                 RWKIT_SERVICE                    RWKIT_INSTANCE
//	3  OpenTelemetry env           OTEL_SERVICE_NAME, then          OTEL_RESOURCE_ATTRIBUTES
//	                               OTEL_RESOURCE_ATTRIBUTES         service.instance.id
//	                               service.name
//	4  ECS task metadata v4        ServiceName, then task Family    task ID (last segment of TaskARN),
//	                                                                <task ID>/<container Name> when the
//	                                                                task has several application containers
//	5  Kubernetes                  workload name from the pod name  POD_NAME, then HOSTNAME
//	6  os.Hostname                 -                                the host name
//
// Sources 4 to 6 do I/O and are consulted only while a value is missing.
// No source at all for the service is an *UnresolvedError: there is no safe
// default, since every writer would share it.
//
// # Environment variables
//
//	RWKIT_SERVICE                  the service; beats every source but Options.Service.
//	RWKIT_INSTANCE                 the instance; beats every source but Options.Instance.
//	OTEL_SERVICE_NAME              the service, as OpenTelemetry SDKs read it; beats
//	                               service.name in OTEL_RESOURCE_ATTRIBUTES (as in the
//	                               OpenTelemetry SDK environment variable spec).
//	OTEL_RESOURCE_ATTRIBUTES       key=value,... with percent-encoded values: service.name
//	                               gives the service, service.instance.id the instance.
//	                               Malformed pairs are skipped and noted in Tried; the
//	                               rest are used, as the OpenTelemetry Go SDK does.
//	ECS_CONTAINER_METADATA_URI_V4  set by the ECS agent (EC2 agent >= 1.39.0, Fargate
//	                               platform >= 1.4.0). GET ${uri}/task and ${uri}, each
//	                               bounded by Options.HTTPClient (default timeout 2s, no
//	                               proxy) and 1 MiB. A failure is noted in Tried and the
//	                               next source is asked.
//	KUBERNETES_SERVICE_HOST        set by the kubelet; turns on the Kubernetes source.
//	POD_NAME                       the pod name, when set from the downward API
//	                               (fieldRef: metadata.name).
//	HOSTNAME                       the pod name otherwise (Kubernetes source only).
//	POD_NAMESPACE                  the namespace, when set from the downward API
//	                               (fieldRef: metadata.namespace); else the file
//	                               /var/run/secrets/kubernetes.io/serviceaccount/namespace
//	                               (Options.KubernetesNamespaceFile).
//
// Empty or blank variables count as unset. A value that is not valid UTF-8,
// in an option or a variable, is a configuration error that names it.
// Values are trimmed of surrounding white space.
//
// # ECS
//
// The service is the task's ServiceName: the ECS service that started the
// task, which is what the seed incident's six writers needed
// (auth, actor, document, ...). Tasks started without a service, and EC2
// agents older than 1.63.1, report no ServiceName; then the task definition
// Family stands in (from the task response, else the container's
// com.amazonaws.ecs.task-definition-family Docker label). Two services
// running one family share a service value but never an instance. The
// instance is the task ID from TaskARN (arn:aws:ecs:region:account:task/cluster/id,
// or task/id in the older format), else from the container's
// com.amazonaws.ecs.task-arn label. When the task response lists more than
// one application container (Containers whose Type is "NORMAL" or absent,
// as from older agents, and whose Name does not start with "~internal~":
// the awsvpc pause container and other containers the agent adds do not
// count), any of them may push, and they would share the task ID; the
// instance is then "<task ID>/<container Name>", e.g.
// "9f2b7c1e04d84a6bb3f5e8d27a61c0e4/worker", with a source that says why
// ("ECS task metadata (task ARN and container Name: the task has 3
// application containers)"). Container names are unique within a task
// definition. A task with one application container keeps the plain task
// ID. Sidecars count: a task with an application and a log router or
// proxy gets "<task ID>/<container Name>" too. When the task has several
// application containers but this container's Name is unavailable, the
// instance is the task ID and Tried says that containers of the task may
// collide and to set RWKIT_INSTANCE. Extra offers "cluster" (short name),
// "container" (the container's name in the task definition) and
// "availability_zone".
//
// # Kubernetes
//
// The instance is the pod name. The service is the controller's name read
// off the pod name, only when it has a shape a controller generates:
// <deployment>-<pod-template-hash>-<5 chars>, <cronjob>-<minutes>-<5 chars>,
// <name>-<5 chars> (DaemonSet, Job) or <statefulset>-<ordinal>, where the
// generated parts use Kubernetes' vowel-free suffix alphabet. Any other pod
// name gives no service, and RWKIT_SERVICE or OTEL_SERVICE_NAME must say it.
// Extra offers "namespace".
//
// Label names default to "service" and "instance" (Options.ServiceLabel,
// Options.InstanceLabel, e.g. "job"); they must be classic Prometheus label
// names. The package logs nothing and reads only what Options allow.
package identity
