from protocol.consumer import SignedConsumer


class ValidatorInterfaceConsumer(SignedConsumer):
    path = "/v1/miner/"
