from protocol.consumer import SignedConsumer


class ValidatorChannelConsumer(SignedConsumer):
    path = "/v1/facilitator/"
