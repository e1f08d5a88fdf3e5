"""A switch whose cases have different lengths and converge on the end step."""

from metaflow import FlowSpec, Parameter, step


class CaseChainFlow(FlowSpec):
    n = Parameter("n", default=3)

    @step
    def start(self):
        self.big = self.n > 2
        self.kind = "big" if self.big else "small"
        self.next({"big": self.grow, "small": self.shrink}, condition="kind")

    @step
    def grow(self):
        self.value = self.n * 100
        self.next(self.grow_more)

    @step
    def grow_more(self):
        self.value = self.value + 1
        self.tags = ["g", "m"]
        self.next(self.end)

    @step
    def shrink(self):
        self.value = -self.n
        self.tags = ["s"]
        self.next(self.end)

    @step
    def end(self):
        self.summary = f"{self.kind}:{self.value}:{len(self.tags)}"


if __name__ == "__main__":
    CaseChainFlow()
