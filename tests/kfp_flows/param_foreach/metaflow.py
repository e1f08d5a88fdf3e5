"""Foreach over a JSONType Parameter whose elements are dicts; a static split inside the body."""

from metaflow import FlowSpec, JSONType, Parameter, step


class ParamForeachFlow(FlowSpec):
    items = Parameter("items", type=JSONType, default='[{"k": "a", "v": 1}, {"k": "b", "v": 2}]')
    scale = Parameter("scale", default=2)

    @step
    def start(self):
        self.offset = 10
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.key = self.input["k"]
        self.pos = self.index
        self.next(self.left, self.right)

    @step
    def left(self):
        self.doubled = self.input["v"] * self.scale
        self.next(self.merge)

    @step
    def right(self):
        self.shifted = self.input["v"] + self.offset
        self.next(self.merge)

    @step
    def merge(self, inputs):
        self.total = inputs.left.doubled + inputs.right.shifted
        self.key = inputs.left.key
        self.pos = inputs.left.pos
        self.next(self.join)

    @step
    def join(self, inputs):
        self.totals = {i.key: i.total for i in inputs}
        self.positions = [i.pos for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.done = sorted(self.totals)


if __name__ == "__main__":
    ParamForeachFlow()
