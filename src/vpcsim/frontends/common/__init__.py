"""What both cloud front-ends share: the document sections every cloud has, their loading, and
their lowering to the IR. Each cloud adds its own products and rules beside them."""
