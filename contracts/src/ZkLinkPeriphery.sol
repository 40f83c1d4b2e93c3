// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

import {ZkLinkBase, IGroth16Verifier, IERC20Like} from "./ZkLinkBase.sol";

/// @title The rest of ZkLink: governance, claims, fast withdrawals and exodus
/// @notice Runs only by ZkLink's delegatecall, on the proxy's storage (see ZkLinkBase); calling
/// this contract directly changes nothing of any deployment. Specified in docs/protocol.md §13.
contract ZkLinkPeriphery is ZkLinkBase {
    constructor(Config memory config) ZkLinkBase(config) {}

    // ================================================================ governance (the Timelock)
    function setGovernor(address governor_) external onlyGovernor {
        if (governor_ == address(0)) revert BadConfig("governor");
        governor = governor_;
        emit GovernorChanged(governor_);
    }

    function setValidator(address validator, bool active_) external onlyGovernor {
        validators[validator] = active_;
        emit ValidatorStatus(validator, active_);
    }

    function setBlockVerifier(uint32 chunks, address verifier) external onlyGovernor {
        blockVerifiers[chunks] = verifier;
        emit BlockVerifierSet(chunks, verifier);
    }

    function setExitVerifier(address verifier) external onlyGovernor {
        exitVerifier = verifier;
        emit ExitVerifierSet(verifier);
    }

    /// Lists `token` (address(0): the native coin) under `tokenId` with its L1 decimals.
    function addToken(uint16 tokenId, address token, uint8 decimals, uint128 maxDeposit) external onlyGovernor {
        if (tokenId < MIN_USER_TOKEN_ID) revert BadConfig("token ids below 17 are L2-only");
        if (decimals > L2_DECIMALS) revert BadConfig("more than 18 decimals");
        if (tokens[tokenId].registered) revert TokenAlreadyListed(tokenId);
        if (tokenIds[token] != 0) revert TokenAlreadyListed(tokenIds[token]);
        tokens[tokenId] = Token(token, decimals, true, false, maxDeposit);
        tokenIds[token] = tokenId;
        emit TokenAdded(tokenId, token, decimals, maxDeposit);
    }

    /// Pausing stops deposits of the token only: withdrawals, claims and exits go on.
    function setTokenPaused(uint16 tokenId, bool paused) external onlyGovernor {
        if (!tokens[tokenId].registered) revert TokenNotListed(tokenId);
        tokens[tokenId].paused = paused;
        emit TokenPaused(tokenId, paused);
    }

    /// Replaces the oracle set: `threshold` of these distinct, non-zero `members` sync a block.
    function setOracleSet(address[] calldata members, uint16 threshold) external onlyGovernor {
        if (threshold == 0 || threshold > members.length) revert BadConfig("threshold must be in 1..=oracle count");
        for (uint256 i = 0; i < oracleList.length; i++) {
            isOracle[oracleList[i]] = false;
        }
        delete oracleList;
        for (uint256 i = 0; i < members.length; i++) {
            if (members[i] == address(0) || isOracle[members[i]]) revert BadConfig("oracle zero or listed twice");
            isOracle[members[i]] = true;
            oracleList.push(members[i]);
        }
        oracleThreshold = threshold;
        emit OracleSet(members, threshold);
    }

    function oracles() external view returns (address[] memory) {
        return oracleList;
    }

    /// Points the proxy at a new ZkLink implementation of the same network and chain. Not in
    /// exodus: once users exit against the last executed root, the rules cannot change.
    function upgradeTo(address implementation_) external onlyGovernor active {
        ZkLinkBase next = ZkLinkBase(implementation_);
        if (
            implementation_.code.length == 0 || next.NETWORK_ID() != NETWORK_ID || next.CHAIN_ID() != CHAIN_ID
                || next.CHAIN_COUNT() != CHAIN_COUNT
        ) revert BadConfig("implementation of another network or chain");
        assembly {
            sstore(IMPLEMENTATION_SLOT, implementation_)
        }
        emit Upgraded(implementation_);
    }

    function implementation() external view returns (address impl) {
        assembly {
            impl := sload(IMPLEMENTATION_SLOT)
        }
    }

    // ================================================================ claims
    /// Pays `amount` (L1 units) of `owner`'s pending balance to `owner`; anyone may call.
    function withdrawPendingBalance(address owner, uint16 tokenId, uint128 amount) external nonReentrant {
        uint128 available = pendingBalances[owner][tokenId];
        if (amount == 0 || amount > available) revert InsufficientPendingBalance(available, amount);
        pendingBalances[owner][tokenId] = available - amount;
        _send(tokenId, owner, amount);
        emit Withdrawn(owner, tokenId, amount);
    }

    // ================================================================ fast withdrawals
    /// Pays a withdrawal's receiver now, `amount · (10000 − feeRatio) / 10000` in L1 units (from
    /// the sender's tokens, or msg.value for the native coin); at execution the sender is paid the
    /// whole amount instead of the receiver. The arguments are the Withdraw op's fields (amount in
    /// L2 units); a withdrawal is accepted at most once and never after its execution.
    function acceptWithdraw(
        address receiver,
        uint16 l1TokenId,
        uint128 amount,
        uint16 feeRatio,
        uint32 accountId,
        uint8 subAccountId,
        uint32 nonce
    ) external payable nonReentrant active {
        if (feeRatio > MAX_FEE_RATIO) revert BadAccept("fee ratio above 10000");
        if (receiver == address(0)) revert BadAccept("receiver");
        bytes32 key = _withdrawalKey(receiver, l1TokenId, amount, feeRatio, accountId, subAccountId, nonce);
        if (withdrawalPayee[key] != address(0)) revert AlreadyAccepted(key, withdrawalPayee[key]);
        uint256 scale = _scale(l1TokenId);
        if (amount % scale != 0) revert BadAccept("amount is not a whole L1 unit");
        uint256 l1Amount = amount / scale;
        uint256 paid = l1Amount - (l1Amount * feeRatio) / MAX_FEE_RATIO;
        withdrawalPayee[key] = msg.sender;
        address token = tokens[l1TokenId].token;
        if (token == address(0)) {
            if (msg.value != paid) revert BadAccept("msg.value must equal the amount paid");
            _send(l1TokenId, receiver, paid);
        } else {
            if (msg.value != 0) revert BadAccept("msg.value for a token withdrawal");
            _callOptionalBool(token, abi.encodeCall(IERC20Like.transferFrom, (msg.sender, receiver, paid)));
        }
        emit WithdrawalAccepted(key, msg.sender, receiver, uint128(paid));
    }

    // ================================================================ exodus
    /// Anyone may switch this chain to exodus once the oldest unexecuted request has expired.
    function activateExodus() external active {
        uint64 oldest = firstPriorityRequestId;
        uint64 expiration = priorityRequests[oldest].expirationBlock;
        if (totalOpenPriorityRequests == 0 || block.number < expiration) revert NotExpired(oldest, expiration);
        exodusMode = true;
        // Committed blocks that were not executed are void: their requests are refundable.
        totalCommittedPriorityRequests = 0;
        emit ExodusMode(oldest);
    }

    /// Pays `owner` this chain's share of a balance at the last executed root, proven by an exit
    /// proof (§11): `amount` (L2 units) of `l2TokenId`, from reserve `reserveTokenId`, paid in L1
    /// token `reserveTokenId` (or `reserveTokenId + 15` for USD), rounded down to whole L1 units.
    /// Once per (account, sub-account, L2 token, reserve token); anyone may submit.
    function performExodus(
        StoredBlockInfo calldata lastExecuted,
        address owner,
        uint32 accountId,
        uint8 subAccountId,
        uint16 l2TokenId,
        uint16 reserveTokenId,
        uint128 amount,
        uint256[8] calldata proof
    ) external nonReentrant {
        if (!exodusMode) revert NotExodus();
        if (lastExecuted.blockNumber != totalBlocksExecuted) {
            revert WrongBlockNumber(totalBlocksExecuted, lastExecuted.blockNumber);
        }
        _requireStored(lastExecuted);
        uint16 l1Token = _exitL1Token(l2TokenId, reserveTokenId);
        bytes32 key = keccak256(abi.encodePacked(accountId, subAccountId, l2TokenId, reserveTokenId));
        if (exodusPerformed[key]) revert ExodusAlreadyPerformed(key);
        if (exitVerifier == address(0)) revert NoVerifier(0);
        bytes32 claim = sha256(
            abi.encodePacked(
                lastExecuted.stateRoot, CHAIN_ID, accountId, subAccountId, owner, l2TokenId, reserveTokenId, amount
            )
        );
        if (!IGroth16Verifier(exitVerifier).verifyProof(proof, uint256(claim) & INPUT_MASK)) revert InvalidExitProof();
        exodusPerformed[key] = true;
        // A token never listed here has no reserve here, so its proven share is 0.
        if (amount != 0) _creditPending(owner, l1Token, uint128(amount / _scale(l1Token)));
        emit ExodusPerformed(accountId, subAccountId, l2TokenId, reserveTokenId, amount);
    }

    /// The L1 token an exit from reserve `reserveTokenId` pays in (§11): the token itself, or for a
    /// USD reserve id 2..=16 the stablecoin `reserveTokenId + 15`. Which balances may draw on which
    /// reserve (USD, a token's own, LP shares of a pool's tokens) is the exit proof's to prove.
    function _exitL1Token(uint16 l2TokenId, uint16 reserveTokenId) internal pure returns (uint16) {
        if (l2TokenId != USD_TOKEN_ID && l2TokenId < MIN_USER_TOKEN_ID) {
            revert BadExitClaim("only USD and tokens from 17 exit");
        }
        if (reserveTokenId >= MIN_USER_TOKEN_ID) return reserveTokenId;
        if (reserveTokenId < 2 || reserveTokenId > 16) revert BadExitClaim("USD reserves are 2..=16");
        return reserveTokenId + (MIN_STABLECOIN_ID - 2);
    }

    /// In exodus, refunds the `n` oldest unexecuted requests: `pubdata[i]` is request i's pubdata
    /// as emitted in NewPriorityRequest. Deposits return to their owner as pending balances; full
    /// exit requests are dropped.
    function cancelOutstandingDepositsForExodus(uint64 n, bytes[] calldata pubdata) external nonReentrant {
        if (!exodusMode) revert NotExodus();
        if (n == 0 || n > totalOpenPriorityRequests || pubdata.length != n) revert NothingToDo();
        uint64 first = firstPriorityRequestId;
        for (uint64 i = 0; i < n; i++) {
            PriorityRequest storage r = priorityRequests[first + i];
            bytes calldata op = pubdata[i];
            if (op.length != 2 * CHUNK_BYTES || r.hashedPubData != _queueHash(op)) {
                revert PriorityQueueMismatch(first + i, i);
            }
            if (r.opType == OP_DEPOSIT) {
                // Deposit (§8): l1 token 7..9, amount 11..27, owner 27..47; the amount was scaled
                // up from whole L1 units, so the division is exact.
                uint16 tokenId = uint16(bytes2(op[7:9]));
                uint128 l1Amount = uint128(uint128(bytes16(op[11:27])) / _scale(tokenId));
                address owner = address(bytes20(op[27:47]));
                _creditPending(owner, tokenId, l1Amount);
                emit DepositRefunded(first + i, owner, tokenId, l1Amount);
            }
        }
        _popPriorityRequests(n);
    }
}
