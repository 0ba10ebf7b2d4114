//! LocalStack through the aws CLI of its virtualenv, and stacks of the shipped template in it.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

const URL_VAR: &str = "ANTAEUS_TEST_LOCALSTACK_URL";
const CLI_VAR: &str = "ANTAEUS_TEST_AWS_CLI";
const REQUIRE_VAR: &str = "ANTAEUS_REQUIRE_LOCALSTACK";
const TEMPLATE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../deploy/aws/eventbridge-scheduler.yaml"
);

/// The aws CLI aimed at LocalStack.
pub struct Aws {
    endpoint: String,
    cli: PathBuf,
}

impl Aws {
    /// The LocalStack named by `ANTAEUS_TEST_LOCALSTACK_URL`; `None`, after saying so on the
    /// terminal, when it is not set, unless `ANTAEUS_REQUIRE_LOCALSTACK=1` makes that a failure.
    pub fn from_env() -> Option<Self> {
        let Ok(endpoint) = std::env::var(URL_VAR) else {
            let why = format!(
                "{URL_VAR} is not set, so the shipped CloudFormation stack was not deployed into \
                 LocalStack (`make aws-test` runs this test with LocalStack)"
            );
            if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
                panic!("{REQUIRE_VAR}=1 but {why}");
            }
            // Past the harness' capture, so the skip shows although the test passes.
            let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
            return None;
        };
        let cli = std::env::var_os(CLI_VAR).map_or_else(|| PathBuf::from("aws"), PathBuf::from);
        Some(Self { endpoint, cli })
    }

    /// `aws` with LocalStack's endpoint, region and dummy credentials, JSON output.
    fn command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(&self.cli);
        command
            .args(["--endpoint-url", &self.endpoint, "--region", "us-east-1"])
            .args(["--output", "json"])
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("AWS_PROFILE");
        command
    }

    /// Runs `aws <args>`: its stdout, or what failed with the CLI's own words.
    async fn run(&self, args: &[&str]) -> Result<String, String> {
        let output = tokio::process::Command::from(self.command())
            .args(args)
            .output()
            .await
            .map_err(|e| format!("cannot run {} ({CLI_VAR}): {e}", self.cli.display()))?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if output.status.success() {
            return Ok(stdout);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let args = args.join(" ");
        Err(format!("aws {args}: {}\n{stdout}{stderr}", output.status))
    }
}

/// A stack of `deploy/aws/eventbridge-scheduler.yaml`, deleted when dropped (best effort).
pub struct Stack<'a> {
    aws: &'a Aws,
    /// `antaeus-test-<pid>-<nanos>`: the rules are `<name>-monthly` and `<name>-retry`.
    pub name: String,
    deleted: bool,
}

impl<'a> Stack<'a> {
    /// Deploys the template as an operator would (`aws cloudformation deploy`) with
    /// `parameters` (`Key=value`); panics with CloudFormation's reasons if it is refused.
    pub async fn deploy(aws: &'a Aws, parameters: &[String]) -> Stack<'a> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let stack = Stack {
            aws,
            name: format!("antaeus-test-{}-{nanos}", std::process::id()),
            deleted: false,
        };
        let mut args = vec!["cloudformation", "deploy", "--stack-name", &stack.name];
        args.extend([
            "--template-file",
            TEMPLATE,
            "--capabilities",
            "CAPABILITY_IAM",
        ]);
        args.push("--parameter-overrides");
        args.extend(parameters.iter().map(String::as_str));
        if let Err(error) = aws.run(&args).await {
            panic!(
                "LocalStack's CloudFormation refused the shipped template:\n{error}\n{}",
                stack.failures().await
            );
        }
        stack
    }

    /// The stack's failed resources and CloudFormation's reasons.
    async fn failures(&self) -> String {
        let query = "StackEvents[?ends_with(ResourceStatus, 'FAILED')]\
                     .[LogicalResourceId, ResourceType, ResourceStatusReason]";
        let describe = ["cloudformation", "describe-stack-events", "--stack-name"];
        let args = [&describe[..], &[self.name.as_str(), "--query", query]].concat();
        match self.aws.run(&args).await {
            Ok(failed) => format!("failed resources: {failed}"),
            Err(e) => e,
        }
    }

    /// Deletes the stack, and with it the rules, and waits until it is gone.
    pub async fn delete(mut self) {
        let name = ["--stack-name", self.name.as_str()];
        let delete = [&["cloudformation", "delete-stack"][..], &name].concat();
        self.aws.run(&delete).await.expect("delete the stack");
        self.deleted = true;
        // Polled here: `aws cloudformation wait` checks only every 30 s.
        let query = ["--query", "Stacks[0].StackStatus", "--output", "text"];
        let describe = [&["cloudformation", "describe-stacks"][..], &name, &query].concat();
        for _ in 0..60 {
            match self.aws.run(&describe).await {
                Err(_) => return, // LocalStack no longer knows the stack
                Ok(status) if status.trim() == "DELETE_COMPLETE" => return,
                Ok(status) if status.trim() == "DELETE_FAILED" => {
                    panic!("the stack was not deleted: {}", self.failures().await)
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
        panic!("the stack {} was not deleted within 30 s", self.name);
    }
}

impl Drop for Stack<'_> {
    fn drop(&mut self) {
        if !self.deleted {
            let _ = (self.aws.command())
                .args(["cloudformation", "delete-stack", "--stack-name", &self.name])
                .output();
        }
    }
}
